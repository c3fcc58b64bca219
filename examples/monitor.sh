#!/bin/sh
# A monitoring probe: greet, ask for a recipient, stop before DATA; map smtpcli's
# exit code to OK / WARNING (75: temporary, e.g. greylisting) / CRITICAL.
# Run: sh examples/monitor.sh 127.0.0.1 2525
host=${1:-127.0.0.1}
port=${2:-25}
printf 'EHLO monitor.example.org\nMAIL FROM:<monitor@example.org>\nRCPT TO:<postmaster@example.org>\n' |
    smtpcli --quit-after rcpt --color never "$host" "$port" >/dev/null
case $? in
    0) echo "OK - $host:$port accepts mail"; exit 0 ;;
    75) echo "WARNING - $host:$port answered with a temporary failure (4xx)"; exit 1 ;;
    1) echo "CRITICAL - $host:$port refused permanently (5xx)"; exit 2 ;;
    *) echo "CRITICAL - no SMTP answer from $host:$port"; exit 2 ;;
esac
