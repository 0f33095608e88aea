#!/usr/bin/env bash
# ipkeep installer. Placeholder: the install-code flow (precheck, activate, confirm,
# release) is built in the install issue. Today it only says so.
set -euo pipefail
echo "ipkeep install.sh: not implemented yet; copy dist/ipkeep to the machine and run 'ipkeep init'." >&2
exit 1
