#!/bin/sh
# The one-line send, swaks style: a whole test mail with DSN and an attachment,
# then a table per recipient; exits 0 / 75 / 1 / 2 like every smtpcli run.
# Run: sh examples/one-line-send.sh 127.0.0.1 2525
host=${1:-127.0.0.1}
port=${2:-25}
smtpcli --color never "$host" "$port" \
    --from a@example.org --to b@example.org \
    --subject "one-line send %DATE%" \
    --body "Sent by examples/one-line-send.sh to %TO%.\nMessage-ID %MESSAGEID%" \
    --header "X-Example: one-line-send" \
    --attach "$0" \
    --notify failure --ret hdrs --envid "example-$$"
