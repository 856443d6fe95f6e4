/* OMIs (images): the visibility rule shared by image and VM operations, and the image
 * operations (images_ops in api.h): CreateImage as a copy, ReadImages, UpdateImage and
 * DeleteImage. */
#ifndef CLOUDSIM_IMAGES_H
#define CLOUDSIM_IMAGES_H

#include <stdbool.h>

#include "api.h"
#include "state.h"

/* True when `account` sees the image in `region`: it owns it, it is public, or its launch
 * permissions name the account. Images never cross Regions. */
bool images_visible(const struct state_image *im, const char *account, const char *region);

/* The image with this id as the caller sees it; NULL after api_fail (5023) when absent or not
 * visible. */
struct state_image *images_find_visible(struct api_ctx *c, const char *id);

#endif
