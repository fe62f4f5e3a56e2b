"""The examples each command's ``--help`` ends with (its epilog): one place to read and
keep them. tests/test_help.py runs every example as printed, and each describes itself in
a ``#`` comment, so a line copied into a shell runs exactly that command."""

GRAD_EPILOG = """\b
Examples:
  backprop grad "sin(2*x+y)"                       # formulas
  backprop grad "sin(2*x+y)" --at x=1,y=2          # numbers, checked by SymPy
  backprop grad "a = 2*x + y; z = sin(a)" --json   # named intermediates, JSON
  backprop grad "x*y" "x+y" "sin(x)" --at x=1,y=2  # a Jacobian
  backprop grad -e "-x^2" --at x=3                 # an expression starting with -
  echo "x^3" | backprop grad - --at x=2            # read standard input
"""

GRAPH_EPILOG = """\b
Examples:
  backprop graph "sin(x^2)+cos(x^2)"                           # a jaxpr-like listing
  backprop graph "sin(x^2)+cos(x^2)" --at x=0.5 --format tree  # values and gradients
  backprop graph "sin(2*x+y)" --at x=1,y=2 --format dot        # Graphviz source
  backprop graph "sin(x^2)+cos(x^2)" --at x=0.5 -o g.svg       # drawn by Graphviz's dot
  backprop graph "a = 2*x + y; z = sin(a)" --format mermaid    # for Markdown
"""

NET_EPILOG = """\b
Examples:
  backprop net examples/seed004.yaml                 # loss, gradients, cost, SymPy check
  backprop net examples/seed004.yaml --param w5      # one weight and its paths to L
  backprop net examples/two_two_two.yaml --mode all  # forward, paths and reverse side by side
  backprop net examples/mnist_shaped.yaml            # 784-128-10: array engine, VJPs
  backprop net examples/xor.yaml --full --json       # every entry, as JSON
  backprop net examples/xor.yaml --hvp               # H v along a seeded random direction
  backprop net examples/seed004.yaml --hessian       # the full Hessian over the parameters
"""

PATHS_EPILOG = """\b
Examples:
  backprop paths "sin(2*x+y)"                                   # each path, its partials, the sum
  backprop paths "sin(2*x+y)" --at x=1,y=2                      # numbers
  # seed 003: 32 paths, 32*x**31
  backprop paths "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"
  backprop paths "sin(x^2)+cos(x^2)" --at x=1 --limit 1 --json  # the first path, JSON
"""

COMPARE_EPILOG = """\b
Examples:
  backprop compare "sin(2*x+y)" --at x=1,y=2         # reverse wins: 1 sweep
  backprop compare "x*y" "x+y" "sin(x)" "x-y"        # a 4x2 Jacobian: forward wins
  # seed 003: 32 paths; forward and reverse tie at 1 sweep
  backprop compare "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"
  backprop compare "sin(2*x+y)" --csv                # one CSV row per mode
  backprop compare "sin(2*x+y)" --plot -o modes.svg  # bars: in the terminal, as SVG
  backprop compare "sin(x1+x2)" "x1*x2+sin(x2)"      # several outputs: compressed sweeps
  backprop compare "sin(x^2)+cos(x^2)" --eliminations  # vertex elimination orders
"""

SCALE_EPILOG = """\b
Families: layered (seed 003, 2^L paths), chain (nested sin), wide (sum of
x_i*y_i), fanout (x^1 + ... + x^n), mlp (3 dense tanh layers of width n),
decay (s_k = 0.5*s_(k-1) + x_k*x_(k+1), n inputs), tridiag (n outputs,
y_i = x_(i-1)*x_i + sin(x_i + x_(i+1)): 3 compressed sweeps at every n).
Examples:
  backprop scale layered --sizes 1:16                # paths double per layer
  backprop scale wide --sizes 10:100:10              # forward pays a sweep per input
  backprop scale mlp --sizes 1,2,4,8 --csv           # CSV: one row per size and mode
  backprop scale layered --sizes 1:16 -o growth.svg  # the plot as SVG (or .png)
  backprop scale decay --order 2 --max-ops 1e9       # the Hessian's pairings as n grows
"""

HESSIAN_EPILOG = """\b
Examples:
  backprop hessian "x^2*y + sin(y)" --at x=1,y=2                   # forward-over-reverse
  backprop hessian "x^2*y + sin(y)" --at x=1,y=2 --mode all        # the four pairings' costs
  backprop hessian "x^2*y + sin(y)"                                # formulas
  backprop hessian "x^2*y + sin(y)" --at x=1,y=2 --vector x=1,y=0  # H v in one sweep
"""

CHECK_EPILOG = """\b
Examples:
  backprop check examples/check/exercises.yaml                               # a table; exit 1: a wrong claim
  backprop check examples/check/exercises.yaml --format junit -o report.xml  # CI test reports; exit 1
  # a CI job summary (GitHub Actions: >> "$GITHUB_STEP_SUMMARY"); exit 1
  backprop check examples/check/exercises.yaml --format markdown >> summary.md
"""

EXAMPLES_EPILOG = """\b
Examples:
  backprop examples                       # what each example shows
  backprop examples seed004.yaml          # print one
  backprop examples seed004.yaml | backprop net -   # run it without a copy
  backprop examples --copy mine           # copy them all into mine/examples
"""
