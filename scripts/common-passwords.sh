#!/usr/bin/env bash
# Regenerates internal/passport/common-passwords.txt from the zxcvbn-ts common password list
# (npm, MIT). Keeps only the entries the rest of the password policy would let through.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --silent @zxcvbn-ts/language-common@4.1.3 >/dev/null &&
  node -e 'const p=require("@zxcvbn-ts/language-common"); process.stdout.write(p.dictionary["passwords-common"].join("\n")+"\n")' >list.txt)
{
  echo "# Common passwords that would otherwise pass the policy (8+ characters, a letter and a digit)."
  echo "# Source: @zxcvbn-ts/language-common 4.1.3 (MIT; Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.; (c) 2021 @zxcvbn-ts)."
  echo "# Regenerate with scripts/common-passwords.sh."
  tr 'A-Z' 'a-z' <"$tmp/list.txt" | awk 'length($0)>=8 && /[0-9]/ && /[a-z]/' | sort -u
} >internal/passport/common-passwords.txt
