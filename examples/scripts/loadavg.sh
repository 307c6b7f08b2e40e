#!/bin/sh
# An exec module: prints the load averages and process counts from /proc/loadavg as
# Prometheus metrics. Query `args` are appended to the command line (here: a label value).
set -eu
read -r one five fifteen procs _ < /proc/loadavg
running=${procs%/*}
total=${procs#*/}
host=${1:-local}
cat <<METRICS
# HELP example_load_average System load average over 1, 5 and 15 minutes.
# TYPE example_load_average gauge
example_load_average{host="$host",window="1m"} $one
example_load_average{host="$host",window="5m"} $five
example_load_average{host="$host",window="15m"} $fifteen
# HELP example_processes Scheduling entities, by state.
# TYPE example_processes gauge
example_processes{host="$host",state="running"} $running
example_processes{host="$host",state="total"} $total
METRICS
