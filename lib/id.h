/* Identifiers: UUIDs (v7, time-ordered, so that index inserts stay local and ids sort by
 * creation) and the textual checks the services use on ids received from outside. */
#ifndef MKT_ID_H
#define MKT_ID_H

#include <stdbool.h>
#include <stddef.h>

#define ID_UUID_LEN 36 /* without the terminating NUL */

/* Writes a fresh UUIDv7 in canonical lower-case form into out[37]. */
void id_uuid(char out[ID_UUID_LEN + 1]);
/* True for a canonical 8-4-4-4-12 hexadecimal UUID (either case). */
bool id_is_uuid(const char *s);

#endif
