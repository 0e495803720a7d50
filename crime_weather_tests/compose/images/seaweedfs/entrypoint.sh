#!/bin/sh
# `server ARGS...`: weed server with the data folder and volume defaults the published image adds.
set -eu
if [ "${1:-}" = server ]; then
    shift
    exec /usr/bin/weed -logtostderr=true server -dir=/data -volume.max=0 -master.volumeSizeLimitMB=1024 "$@"
fi
exec /usr/bin/weed "$@"
