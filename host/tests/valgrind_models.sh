#!/usr/bin/env bash
# valgrind_models.sh DESHOST MODEL... -- run each example model under
# valgrind's memcheck; any invalid access or leak fails the test.
set -u
deshost=$1
shift
status=0
for model in "$@"; do
  if ! valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
      "$deshost" "$model" >/dev/null 2>"${TMPDIR:-/tmp}/valgrind.$$.log"; then
    echo "valgrind: $model"
    cat "${TMPDIR:-/tmp}/valgrind.$$.log"
    status=1
  fi
done
rm -f "${TMPDIR:-/tmp}/valgrind.$$.log"
exit $status
