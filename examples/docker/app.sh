#!/bin/sh
# A stand-in application: it starts a worker in the background (as many real entrypoint
# scripts do), cleans up on SIGTERM, and otherwise waits. Under rein, `docker stop` reaches both
# this script and the worker, because rein signals the whole process group.
trap 'echo "app: SIGTERM, cleaning up"; exit 0' TERM
sleep 3600 &
echo "app: started worker $!"
wait
