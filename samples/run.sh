#!/usr/bin/env bash
# Packs the NanoCam libraries into artifacts/feed, then builds and runs the samples against those packages (not the
# projects), as a user's program would: a package that does not work on its own fails here. Prints one line
# "samples: passed" or "samples: failed (…)" last, and exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
feed="$root/artifacts/feed"
work=$(mktemp -d)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
fail() { echo "samples: failed ($1)"; rm -rf "$work"; exit 1; }

rm -rf "$feed"
# Every packable project of the solution in one build: the eight libraries and the nanocam tool.
dotnet pack NanoCam.sln -c Release -o "$feed" -v quiet -nologo >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; fail "dotnet pack"; }
ls -l "$feed"

# The samples get a package cache of their own, so that a version packed again is not served from an older cache.
for s in console/ExplainImage web/ExplainService; do
  NUGET_PACKAGES="$work/packages" dotnet build "samples/$s.csproj" -c Release -o "$work/${s%%/*}" -nologo -v quiet >"$work/build.log" 2>&1 \
    || { cat "$work/build.log"; fail "build samples/$s"; }
done

# The console sample: the shipped checkpoint, a picture drawn from the shapes data set.
(cd "$work" && "$work/console/ExplainImage" "$root/weights/shapes-vgg.safetensors") >"$work/console.log" 2>&1 \
  || { cat "$work/console.log"; fail "console sample exited non-zero"; }
cat "$work/console.log"
grep -q "^gradcam for class [0-5] (" "$work/console.log" && [ -s "$work/explanation.png" ] || fail "console sample: no explanation written"

# The web sample: upload that overlay as an image to explain; a PNG comes back with the class in a header.
port=$((20000 + RANDOM % 20000))
NANOCAM_MODEL="$root/weights/shapes-vgg.safetensors" "$work/web/ExplainService" --urls "http://127.0.0.1:$port" >"$work/web.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 1; done
curl -sf -D "$work/headers" --data-binary @"$work/explanation.png" "http://127.0.0.1:$port/explain?method=gradcam%2B%2B" -o "$work/reply.png" \
  || { cat "$work/web.log"; fail "web sample: POST /explain failed"; }
head -c 8 "$work/reply.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || fail "web sample: the reply is not a PNG"
grep -qi "^x-class: [0-5]" "$work/headers" || fail "web sample: no X-Class header"
code=$(curl -s -o /dev/null -w "%{http_code}" --data-binary "not an image" "http://127.0.0.1:$port/explain")
[ "$code" = 400 ] || fail "web sample: a body that is not an image gave HTTP $code, not 400"
echo "web sample: POST /explain → $(grep -i '^x-class' "$work/headers" | tr -d '\r' | tr '\n' ' ')"
kill $server 2>/dev/null
rm -rf "$work"
echo "samples: passed"
