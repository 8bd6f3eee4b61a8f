#!/usr/bin/env bash
# Fails when a source layer includes a layer above it (README.md, "Layout"). Each layer of src/
# may include only the layers listed for it; include/vtrace (the probe and channel ABI) is below
# everything. Run by the test suite (ctest -R layering) and by hand:
#   tools/check_layers.sh [REPO_DIR]
set -uo pipefail
cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}"

# layer: the layers it may include (lowest first: sys, clock, transport, bytecode, lang, bpf, engine,
# export, guest, targets, cli).
declare -A ALLOWED=(
  [sys]="vtrace"
  [clock]="vtrace sys"
  [transport]="vtrace sys clock"
  [bytecode]="vtrace sys clock transport"
  [lang]="vtrace sys bytecode"
  [bpf]="vtrace sys clock transport bytecode"
  [engine]="vtrace sys clock transport bytecode lang bpf"
  [export]="vtrace sys clock transport bytecode lang bpf engine"
  [guest]="vtrace sys clock transport"
  [targets]="vtrace sys clock transport bytecode lang bpf engine guest"
  [cli]="vtrace sys clock transport bytecode lang bpf engine export guest targets"
)
# The one arrow that still runs up: the bytecode module carries D types and source locations
# (to move down with those two headers).
EXCEPTIONS="bytecode:lang/types.h bytecode:lang/source.h"

status=0
for dir in src/*/; do
  layer=$(basename "$dir")
  if [ -z "${ALLOWED[$layer]+x}" ]; then
    echo "check_layers: src/$layer is not in the layer table (tools/check_layers.sh)" >&2
    status=1
    continue
  fi
  while IFS=: read -r file line inc; do
    target=${inc%%/*}
    [ "$target" = "$layer" ] && continue
    case " ${ALLOWED[$layer]} " in *" $target "*) continue ;; esac
    case " $EXCEPTIONS " in *" $layer:$inc "*) continue ;; esac
    echo "$file:$line: src/$layer includes \"$inc\" (a layer above it, or not below)" >&2
    status=1
  done < <(grep -rnoE '^#include "[a-z_]+/[^"]+"' "$dir" | sed -E 's/#include "([^"]+)"/\1/')
done
[ $status -eq 0 ] && echo "check_layers: every layer includes only layers below it"
exit $status
