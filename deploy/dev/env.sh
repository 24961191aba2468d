# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The development appliance's names, defined once for `make run`
# (deploy/dev/run.sh) and its demo (deploy/dev/demo.sh); sourced from the
# repository's top folder. Environment: BUILD, OPTROUTE_DEV_DIR,
# OPTROUTE_DEV_NAME, OPTROUTE_DEV_METRICS (run.sh says what they mean).
# shellcheck disable=SC2034 # (used by the scripts that source this)
BUILD=${BUILD:-build}
case $BUILD in /*) BIN=$BUILD/bin ;; *) BIN=$PWD/$BUILD/bin ;; esac
DIR=${OPTROUTE_DEV_DIR:-/tmp/optroute-dev}
NAME=${OPTROUTE_DEV_NAME:-ordev}
NS_C=$NAME-client
NS_D=$NAME-delivery
# optroute-exporter's listen address ([exporter] listen of the rendered
# configuration).
METRICS=${OPTROUTE_DEV_METRICS:-127.0.0.1:9140}
