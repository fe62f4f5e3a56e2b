#!/usr/bin/env bash
# Run every example expression in all three modes; exit non-zero if any check fails.
set -euo pipefail
cd "$(dirname "$0")"
backprop grad - --at x=1,y=2 --mode all < seed004_expression.txt
backprop grad - --at x=0.5 --mode all < shared_square.txt
backprop grad - --at x=1.1 --mode all < layered.txt
backprop grad - --at w=0.5,x=1.5,b=0.1,y=1 --mode all < regression.txt
