"""An SMTP sink for the notifier's tests and benchmark: a Maildir like aiosmtpd.handlers.Mailbox,
plus refusals scripted by the recipient's local part:

  reject-*@...    550 to RCPT TO (permanent: the notifier must not retry)
  tempfail-*@...  451 to RCPT TO, always (temporary)
  flaky-*@...     451 to RCPT TO the first two times for that address, then accepted
  baddata-*@...   554 after DATA (content refused: permanent)

Run with Debian's interpreter and this folder on PYTHONPATH:
  PYTHONPATH=tests/programs/mail_sink /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT \
      -c mkt_sink.Sink MAILDIR
(MAILDIR must not exist yet, or be a complete Maildir). No main.c here: the build ignores it.
"""
from aiosmtpd.handlers import Mailbox


class Sink(Mailbox):
    flaky_seen = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@')[0].lower()
        if local.startswith('reject-'):
            return '550 5.1.1 No such user here'
        if local.startswith('tempfail-'):
            return '451 4.3.0 Try again later'
        if local.startswith('flaky-'):
            seen = Sink.flaky_seen.get(address, 0)
            Sink.flaky_seen[address] = seen + 1
            if seen < 2:
                return '451 4.3.0 Greylisted, try again later'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        if any(r.split('@')[0].lower().startswith('baddata-') for r in envelope.rcpt_tos):
            return '554 5.6.0 Message content refused'
        return await super().handle_DATA(server, session, envelope)
