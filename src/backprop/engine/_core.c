/* The compiled core: the parser, the evaluation and the reverse sweep of the pure-Python
 * modules (parse.py, evaluate.py, modes/reverse.py), in C, producing the same objects and
 * the same IEEE numbers bit for bit.
 *
 * Python stays the reference, as with CPython's own json scanner: every function here
 * returns None whenever it meets something it does not take (any syntax error, any limit
 * reached, a non-ASCII text, a value that is not a float), and the caller then runs the
 * Python version, which produces the result or the error message. So C never has to
 * word an error, and tests/test_core.py checks that both agree on random inputs.
 *
 * Like the Python code, nothing here recurses: the parser keeps two explicit stacks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- backends.FLOAT's primitives: f_<name> is FLOAT.<name>, IEEE rules included --------
 * Python's math functions raise where C returns nan or inf; FLOAT turns each error into a
 * fixed value. guard() reproduces math_1()'s error test so that the same value comes out.
 * These are the backend only: the ops' values and partials come from _core_ops.h. */

static double guard(double r, double a, double on_error)
{
    if ((isnan(r) && !isnan(a)) || (isinf(r) && isfinite(a)))
        return on_error;
    return r;
}

static double f_div(double a, double b)
{
    if (b == 0.0) {
        if (isnan(a) || a == 0.0)
            return Py_NAN;
        return copysign(Py_HUGE_VAL, a) * copysign(1.0, b);
    }
    return a / b;
}

/* math.pow, then backends._pow on its errors */
static double f_pow(double x, double y)
{
    double r;
    if (!isfinite(x) || !isfinite(y)) { /* math.pow's own C99 rules: never an error */
        if (isnan(x))
            return y == 0.0 ? 1.0 : x;
        if (isnan(y))
            return x == 1.0 ? 1.0 : y;
        if (isinf(x)) {
            int odd_y = isfinite(y) && fmod(fabs(y), 2.0) == 1.0;
            if (y > 0.0)
                return odd_y ? x : fabs(x);
            if (y == 0.0)
                return 1.0;
            return odd_y ? copysign(0.0, x) : 0.0;
        }
        if (fabs(x) == 1.0)
            return 1.0;
        if (y > 0.0 && fabs(x) > 1.0)
            return y;
        if (y < 0.0 && fabs(x) < 1.0)
            return -y;
        return 0.0;
    }
    r = pow(x, y);
    if (isnan(r))
        return Py_NAN;                        /* ValueError: negative ** fraction */
    if (isinf(r)) {
        if (x == 0.0)
            return Py_HUGE_VAL;               /* ValueError: 0 ** negative */
        if (x < 0.0 && fmod(fabs(y), 2.0) == 1.0)
            return -Py_HUGE_VAL;              /* OverflowError, odd power of a negative */
        return Py_HUGE_VAL;
    }
    return r;
}

static double f_log(double a)
{
    if (a > 0.0)
        return log(a);
    if (a == 0.0)
        return -Py_HUGE_VAL;
    return Py_NAN;
}

static double f_sqrt(double a) { return guard(sqrt(a), a, Py_NAN); }

static double f_sigmoid(double a)
{
    double z;
    if (a >= 0.0)
        return 1.0 / (1.0 + exp(-a));
    z = exp(a);
    return z / (1.0 + z);
}

static double f_sign(double a)
{
    return a > 0.0 ? 1.0 : a < 0.0 ? -1.0 : a == 0.0 ? 0.0 : Py_NAN;
}

static double f_step(double a) { return a > 0.0 ? 1.0 : (a != a ? Py_NAN : 0.0); }

static double f_times(double z, double x) { return z == 0.0 ? 0.0 : z * x; }

static double f_exp(double a) { return guard(exp(a), a, Py_HUGE_VAL); }
static double f_sin(double a) { return guard(sin(a), a, Py_NAN); }
static double f_cos(double a) { return guard(cos(a), a, Py_NAN); }
static double f_tan(double a) { return guard(tan(a), a, Py_NAN); }
static double f_asin(double a) { return guard(asin(a), a, Py_NAN); }
static double f_acos(double a) { return guard(acos(a), a, Py_NAN); }
static double f_atan(double a) { return atan(a); }
static double f_sinh(double a) { return guard(sinh(a), a, copysign(Py_HUGE_VAL, a)); }
static double f_cosh(double a) { return guard(cosh(a), a, Py_HUGE_VAL); }
static double f_tanh(double a) { return tanh(a); }
static double f_abs(double a) { return fabs(a); }
static double f_relu(double a) { return a > 0.0 ? a : (a != a ? a : 0.0); }

/* comparisons as numbers (1.0, 0.0, nan for nan), and where's choice by one */
static double f_lt(double a, double b) { return isnan(a) || isnan(b) ? Py_NAN : a < b; }
static double f_le(double a, double b) { return isnan(a) || isnan(b) ? Py_NAN : a <= b; }
static double f_gt(double a, double b) { return isnan(a) || isnan(b) ? Py_NAN : a > b; }
static double f_ge(double a, double b) { return isnan(a) || isnan(b) ? Py_NAN : a >= b; }
static double f_where(double c, double a, double b) { return c > 0.0 ? a : c == 0.0 ? b : Py_NAN; }
static double f_max(double a, double b) { return a >= b ? a : b > a ? b : Py_NAN; }
static double f_min(double a, double b) { return a <= b ? a : b < a ? b : Py_NAN; }
static double f_atan2(double y, double x) { return atan2(y, x); }

static double f_hypot(double x, double y) /* backends._hypot, step by step */
{
    double a = fabs(x), b = fabs(y), m = f_max(a, b), n = f_min(a, b);
    double r = n < m ? n / m : n == m ? 1.0 : Py_NAN;
    return m * sqrt(1.0 + r * r);
}
static double f_floor(double a) { return floor(a); }
static double f_ceil(double a) { return ceil(a); }
static double f_erf(double a) { return erf(a); }
static double f_expm1(double a) { return guard(expm1(a), a, Py_HUGE_VAL); }

static double f_log1p(double a)
{
    if (a == -1.0)
        return -Py_HUGE_VAL;
    return a < -1.0 ? Py_NAN : log1p(a);
}

/* ---- the op table: codes, names, arities, op_value and op_partials, from ops.py ------ */

#include "_core_ops.h"

static PyObject *code_names[N_CODES]; /* interned str per code */
static PyObject *code_of;             /* dict: op name -> code */

static int is_leaf(int code) { return code >= INPUT; }

/* ---- reading a graph's nodes (graph.Node tuples) into arrays ----------------------- */

typedef struct {
    Py_ssize_t n;
    unsigned char *code;
    Py_ssize_t *arg; /* MAX_ARITY per node, -1 where absent */
} Flat;

static void flat_free(Flat *g)
{
    PyMem_Free(g->code);
    PyMem_Free(g->arg);
}

/* 1: read; 0: something the C sweeps do not take (no exception set); -1: error */
static int flat_read(PyObject *nodes, Flat *g)
{
    Py_ssize_t i, k;
    memset(g, 0, sizeof(*g));
    if (!PyTuple_CheckExact(nodes))
        return 0;
    g->n = PyTuple_GET_SIZE(nodes);
    g->code = PyMem_Malloc(g->n ? g->n : 1);
    g->arg = PyMem_Malloc(sizeof(Py_ssize_t) * MAX_ARITY * (g->n ? g->n : 1));
    if (!g->code || !g->arg) {
        flat_free(g);
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < g->n; i++) {
        PyObject *node = PyTuple_GET_ITEM(nodes, i), *found, *args;
        Py_ssize_t nargs;
        long code;
        if (!PyTuple_Check(node) || PyTuple_GET_SIZE(node) != 4)
            goto refuse;
        found = PyDict_GetItemWithError(code_of, PyTuple_GET_ITEM(node, 0));
        if (!found)
            goto refuse_or_error;
        code = PyLong_AsLong(found);
        args = PyTuple_GET_ITEM(node, 1);
        if (!PyTuple_Check(args))
            goto refuse;
        nargs = PyTuple_GET_SIZE(args);
        if (nargs != ARITY[code])
            goto refuse;
        g->code[i] = (unsigned char)code;
        for (k = 0; k < MAX_ARITY; k++)
            g->arg[MAX_ARITY * i + k] = -1;
        for (k = 0; k < nargs; k++) {
            Py_ssize_t a = PyLong_AsSsize_t(PyTuple_GET_ITEM(args, k));
            if (a == -1 && PyErr_Occurred())
                goto refuse_or_error;
            if (a < 0 || a >= i) /* arguments come first: the graph's invariant */
                goto refuse;
            g->arg[MAX_ARITY * i + k] = a;
        }
    }
    return 1;
refuse_or_error:
    if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_TypeError)
        && !PyErr_ExceptionMatches(PyExc_OverflowError)) {
        flat_free(g);
        return -1;
    }
    PyErr_Clear();
refuse:
    flat_free(g);
    return 0;
}

/* ---- evaluate(nodes, point) -> list of floats, or None ----------------------------- */

static PyObject *core_evaluate(PyObject *Py_UNUSED(self), PyObject *args)
{
    PyObject *nodes, *point, *out = NULL;
    Flat g;
    double *v;
    Py_ssize_t i;
    int ok;
    if (!PyArg_ParseTuple(args, "OO:evaluate", &nodes, &point))
        return NULL;
    if (!PyDict_CheckExact(point))
        Py_RETURN_NONE;
    ok = flat_read(nodes, &g);
    if (ok <= 0)
        return ok < 0 ? NULL : Py_NewRef(Py_None);
    v = PyMem_Malloc(sizeof(double) * (g.n ? g.n : 1));
    out = PyList_New(g.n);
    if (!v || !out) {
        PyErr_NoMemory();
        goto fail;
    }
    for (i = 0; i < g.n; i++) {
        int code = g.code[i];
        PyObject *item;
        if (is_leaf(code)) {
            PyObject *node = PyTuple_GET_ITEM(nodes, i);
            item = code == CONST ? PyTuple_GET_ITEM(node, 3)
                                 : PyDict_GetItemWithError(point, PyTuple_GET_ITEM(node, 2));
            if (!item || !PyFloat_CheckExact(item)) { /* a missing name: Python raises */
                if (PyErr_Occurred())
                    goto fail;
                goto refuse;
            }
            v[i] = PyFloat_AS_DOUBLE(item);
            Py_INCREF(item);
        } else {
            const Py_ssize_t *arg = g.arg + MAX_ARITY * i;
            v[i] = op_value(code, v[arg[0]], arg[1] >= 0 ? v[arg[1]] : 0.0,
                            arg[2] >= 0 ? v[arg[2]] : 0.0);
            if (!(item = PyFloat_FromDouble(v[i])))
                goto fail;
        }
        PyList_SET_ITEM(out, i, item);
    }
    PyMem_Free(v);
    flat_free(&g);
    return out;
refuse:
    Py_CLEAR(out);
    PyMem_Free(v);
    flat_free(&g);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(out);
    PyMem_Free(v);
    flat_free(&g);
    return NULL;
}

/* ---- reverse(nodes, values, wrt, outputs) -------------------------------------------
 * -> (jacobian rows, partials, additions, peak reached, primitive evaluations), or None.
 * The same sweep as modes/reverse.py: the same order of additions, the same counts. */

static PyObject *core_reverse(PyObject *Py_UNUSED(self), PyObject *args)
{
    PyObject *nodes, *values, *wrt_seq, *out_seq, *wrt = NULL, *outs = NULL;
    PyObject *jacobian = NULL, *result = NULL;
    Flat g;
    double *v = NULL, *adj = NULL;
    unsigned char *active = NULL, *has = NULL, *quiet = NULL;
    Py_ssize_t *wrt_ids = NULL, nwrt, nout, i, k, o;
    long long partials = 0, adds = 0, peak = 0, primitive = 0;
    int ok;
    if (!PyArg_ParseTuple(args, "OOOO:reverse", &nodes, &values, &wrt_seq, &out_seq))
        return NULL;
    if (!PyList_CheckExact(values))
        Py_RETURN_NONE;
    ok = flat_read(nodes, &g);
    if (ok <= 0)
        return ok < 0 ? NULL : Py_NewRef(Py_None);
    if (PyList_GET_SIZE(values) != g.n)
        goto refuse;
    wrt = PySequence_Fast(wrt_seq, "wrt must be a sequence");
    outs = PySequence_Fast(out_seq, "outputs must be a sequence");
    if (!wrt || !outs)
        goto fail;
    nwrt = PySequence_Fast_GET_SIZE(wrt);
    nout = PySequence_Fast_GET_SIZE(outs);
    v = PyMem_Malloc(sizeof(double) * (g.n ? g.n : 1));
    adj = PyMem_Malloc(sizeof(double) * (g.n ? g.n : 1));
    active = PyMem_Calloc(g.n ? g.n : 1, 1);
    has = PyMem_Malloc(g.n ? g.n : 1);
    quiet = PyMem_Malloc(g.n ? g.n : 1);
    wrt_ids = PyMem_Malloc(sizeof(Py_ssize_t) * (nwrt ? nwrt : 1));
    if (!v || !adj || !active || !has || !quiet || !wrt_ids) {
        PyErr_NoMemory();
        goto fail;
    }
    for (i = 0; i < g.n; i++) {
        PyObject *item = PyList_GET_ITEM(values, i);
        if (!PyFloat_CheckExact(item))
            goto refuse; /* ints or SymPy values: the Python sweep keeps their types */
        v[i] = PyFloat_AS_DOUBLE(item);
        primitive += !is_leaf(g.code[i]);
    }
    for (k = 0; k < nwrt; k++) {
        Py_ssize_t w = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(wrt, k));
        if (w == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            goto refuse;
        }
        if (w < 0 || w >= g.n)
            goto refuse;
        wrt_ids[k] = w;
        active[w] = 1;
    }
    for (i = 0; i < g.n; i++) /* graph.depends_on(wrt) */
        if (!active[i] && !is_leaf(g.code[i]))
            for (k = 0; k < MAX_ARITY && g.arg[MAX_ARITY * i + k] >= 0; k++)
                active[i] = active[i] || active[g.arg[MAX_ARITY * i + k]];
    if (!(jacobian = PyList_New(nout)))
        goto fail;
    for (o = 0; o < nout; o++) {
        Py_ssize_t out = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(outs, o)), reached = 0;
        PyObject *row;
        if (out == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            goto refuse;
        }
        if (out < 0 || out >= g.n)
            goto refuse;
        memset(has, 0, out + 1);
        memset(quiet, 0, out + 1);
        if (active[out]) {
            adj[out] = 1.0;
            has[out] = 1;
        }
        for (i = out; i >= 0; i--) {
            double local[MAX_ARITY] = {0.0, 0.0, 0.0}, a;
            const Py_ssize_t *args_i;
            int code = g.code[i], selecting;
            if (!has[i])
                continue;
            reached++;
            if (is_leaf(code))
                continue;
            a = adj[i];
            args_i = g.arg + MAX_ARITY * i;
            op_partials(code, v[i], v[args_i[0]], args_i[1] >= 0 ? v[args_i[1]] : 0.0,
                        args_i[2] >= 0 ? v[args_i[2]] : 0.0, &local[0], &local[1], &local[2]);
            selecting = SELECTS[code];
            for (k = 0; k < MAX_ARITY; k++) {
                Py_ssize_t arg = args_i[k];
                double contribution;
                if (arg < 0 || !active[arg])
                    continue;
                partials++;
                /* an untaken branch is an exact zero (evaluate.py): times() as FLOAT's */
                contribution = selecting ? f_times(local[k], a)
                             : quiet[i] ? f_times(a, local[k]) : local[k] * a;
                if (!has[arg]) {
                    adj[arg] = contribution;
                    has[arg] = 1;
                    quiet[arg] = selecting || quiet[i];
                } else {
                    adj[arg] = adj[arg] + contribution;
                    adds++;
                    quiet[arg] = quiet[arg] && (selecting || quiet[i]);
                }
            }
        }
        if (reached > peak)
            peak = reached;
        if (!(row = PyList_New(nwrt)))
            goto fail;
        PyList_SET_ITEM(jacobian, o, row);
        for (k = 0; k < nwrt; k++) {
            Py_ssize_t w = wrt_ids[k];
            PyObject *x = (w <= out && has[w]) ? PyFloat_FromDouble(adj[w]) : PyLong_FromLong(0);
            if (!x)
                goto fail;
            PyList_SET_ITEM(row, k, x);
        }
        if (PyErr_CheckSignals() < 0)
            goto fail;
    }
    result = Py_BuildValue("(OLLLL)", jacobian, partials, adds, peak, primitive);
    goto done;
refuse:
    result = Py_NewRef(Py_None);
    goto done;
fail: /* result is still NULL, and the exception is set */
done:
    flat_free(&g);
    PyMem_Free(v);
    PyMem_Free(adj);
    PyMem_Free(active);
    PyMem_Free(has);
    PyMem_Free(quiet);
    PyMem_Free(wrt_ids);
    Py_XDECREF(jacobian);
    Py_XDECREF(wrt);
    Py_XDECREF(outs);
    return result;
}

/* ---- the parser ---------------------------------------------------------------------- */

enum { T_END, T_NUM, T_NAME, T_POW, T_BAD }; /* other tokens are their own character */

typedef struct {
    int kind;
    Py_ssize_t start, len;
} Token;

/* 16 bytes a node while parsing; the Python objects are made once, at the end */
typedef struct {
    unsigned char code, negated; /* negated: a folded "-" before a constant's text */
    int32_t aux;                 /* an op node's depth, a leaf's text length */
    union {
        struct {
            int32_t a, b;        /* an op node's arguments, b = -1 for one argument */
        } args;
        const char *text;        /* a leaf's name or constant text, in its source */
    } u;
} CNode;

#define MAX_IDS 0x7FFFFFF0 /* ids and text lengths fit int32; beyond that Python parses */

static int64_t depth_of(const CNode *x) { return is_leaf(x->code) ? 0 : x->aux; }

typedef struct {
    /* the text being read */
    const char *s;
    Py_ssize_t n, pos;
    Token tok, ahead;
    /* the graph being built, with hash-consing */
    CNode *nodes;
    Py_ssize_t count, cap;
    uint32_t *table;   /* open addressing: node id + 1, 0 for empty */
    size_t table_mask;
    Py_ssize_t max_nodes;
    int64_t max_depth;
    PyObject *bound;  /* statement name -> node id (a dict), for this text */
    PyObject *labels; /* node id -> statement name (a dict), first name wins */
    long long steps;  /* tokens read, for polling Ctrl-C */
} Parser;

/* parse results: OK, or REFUSED (let Python parse: an error or a limit), or FAILED
 * (a Python exception is set: no memory, Ctrl-C) */
enum { OK = 0, REFUSED = 1, FAILED = 2 };

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* the next token from p->pos (the regex of parse._TOKEN, ASCII only) */
static Token scan(Parser *p)
{
    const char *s = p->s;
    Py_ssize_t n = p->n, i = p->pos, start;
    Token t;
    for (;;) { /* whitespace and comments */
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
        if (i < n && s[i] == '#') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        break;
    }
    start = i;
    t.start = start;
    if (i >= n) {
        t.kind = T_END;
    } else if (is_digit(s[i]) || (s[i] == '.' && i + 1 < n && is_digit(s[i + 1]))) {
        if (s[i] == '.') {
            i++;
            while (i < n && is_digit(s[i]))
                i++;
        } else {
            while (i < n && is_digit(s[i]))
                i++;
            if (i < n && s[i] == '.') {
                i++;
                while (i < n && is_digit(s[i]))
                    i++;
            }
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
            Py_ssize_t j = i + 1;
            if (j < n && (s[j] == '+' || s[j] == '-'))
                j++;
            if (j < n && is_digit(s[j])) {
                while (j < n && is_digit(s[j]))
                    j++;
                i = j;
            }
        }
        t.kind = T_NUM;
    } else if (is_name_start(s[i])) {
        while (i < n && (is_name_start(s[i]) || is_digit(s[i])))
            i++;
        t.kind = T_NAME;
    } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '*') {
        i += 2;
        t.kind = T_POW;
    } else if (strchr("-+*/^(),;=\n", s[i]) && s[i] != '\0') {
        t.kind = (unsigned char)s[i];
        i++;
    } else {
        t.kind = T_BAD;
        i++;
    }
    t.len = i - start;
    p->pos = i;
    return t;
}

static void advance(Parser *p)
{
    p->tok = p->ahead;
    if (p->ahead.kind != T_END)
        p->ahead = scan(p);
}

static int token_is(Parser *p, const Token *t, const char *word)
{
    size_t len = strlen(word);
    return (size_t)t->len == len && memcmp(p->s + t->start, word, len) == 0;
}

static int function_code(Parser *p, const Token *t)
{
    int code;
    for (code = FIRST_FUNCTION; code <= LAST_FUNCTION; code++)
        if (token_is(p, t, CODE_NAMES[code]))
            return code;
    return -1;
}

static int is_constant_name(Parser *p, const Token *t)
{
    return token_is(p, t, "pi") || token_is(p, t, "e");
}

/* -- hash-consing: identical nodes (same op and arguments, or same leaf text) merge -- */

static size_t node_hash(const CNode *x)
{
    uint64_t h;
    if (is_leaf(x->code)) {
        Py_ssize_t i;
        h = 1469598103934665603ULL ^ (uint64_t)(x->code * 2 + x->negated);
        for (i = 0; i < x->aux; i++)
            h = (h ^ (unsigned char)x->u.text[i]) * 1099511628211ULL;
    } else {
        h = (uint64_t)x->code * 0x9E3779B97F4A7C15ULL;
        h ^= (uint64_t)(uint32_t)x->u.args.a + 0x632BE59BD9B4E019ULL + (h << 6) + (h >> 2);
        h ^= (uint64_t)(uint32_t)x->u.args.b + 0x85EBCA77C2B2AE63ULL + (h << 6) + (h >> 2);
        h *= 0xFF51AFD7ED558CCDULL;
        h ^= h >> 33;
    }
    return (size_t)h;
}

static int node_equal(const CNode *x, const CNode *y)
{
    if (x->code != y->code)
        return 0;
    if (is_leaf(x->code))
        return x->negated == y->negated && x->aux == y->aux
               && memcmp(x->u.text, y->u.text, x->aux) == 0;
    return x->u.args.a == y->u.args.a && x->u.args.b == y->u.args.b;
}

static int grow(Parser *p)
{
    Py_ssize_t i, new_cap = p->cap ? p->cap * 2 : 1024;
    size_t new_size = (size_t)new_cap * 2, mask = new_size - 1;
    CNode *nodes = PyMem_Realloc(p->nodes, sizeof(CNode) * new_cap);
    uint32_t *table;
    if (!nodes)
        return -1;
    p->nodes = nodes;
    table = PyMem_Calloc(new_size, sizeof(uint32_t));
    if (!table)
        return -1;
    for (i = 0; i < p->count; i++) {
        size_t h = node_hash(&p->nodes[i]) & mask;
        while (table[h])
            h = (h + 1) & mask;
        table[h] = (uint32_t)(i + 1);
    }
    PyMem_Free(p->table);
    p->table = table;
    p->table_mask = mask;
    p->cap = new_cap;
    return 0;
}

/* the id of ``x`` in the graph, added if new; -1 with MemoryError set */
static Py_ssize_t add_node(Parser *p, const CNode *x)
{
    size_t h;
    if (p->count == p->cap && (p->count >= MAX_IDS || grow(p) < 0)) {
        PyErr_NoMemory();
        return -1;
    }
    h = node_hash(x) & p->table_mask;
    while (p->table[h]) {
        Py_ssize_t id = p->table[h] - 1;
        if (node_equal(&p->nodes[id], x))
            return id;
        h = (h + 1) & p->table_mask;
    }
    p->nodes[p->count] = *x;
    p->table[h] = (uint32_t)(p->count + 1);
    return p->count++;
}

/* an input or a constant, keyed by its text (a constant's value follows from its text) */
static Py_ssize_t leaf(Parser *p, int code, const char *text, Py_ssize_t len, int negated)
{
    CNode x;
    memset(&x, 0, sizeof(x));
    x.code = (unsigned char)code;
    x.negated = (unsigned char)negated;
    x.aux = (int32_t)len; /* a token is shorter than MAX_IDS, as the text is */
    x.u.text = text;
    return add_node(p, &x);
}

/* an op node; sets *status to REFUSED when a limit is passed (Python words the error) */
static Py_ssize_t apply(Parser *p, int code, Py_ssize_t a, Py_ssize_t b, int *status)
{
    CNode x;
    Py_ssize_t id;
    int64_t depth = depth_of(&p->nodes[a]);
    if (b >= 0 && depth_of(&p->nodes[b]) > depth)
        depth = depth_of(&p->nodes[b]);
    if (++depth > p->max_depth) {
        *status = REFUSED;
        return -1;
    }
    memset(&x, 0, sizeof(x));
    x.code = (unsigned char)code;
    x.aux = (int32_t)depth; /* at most the node count, below MAX_IDS */
    x.u.args.a = (int32_t)a;
    x.u.args.b = (int32_t)b;
    id = add_node(p, &x);
    if (id < 0) {
        *status = FAILED;
        return -1;
    }
    if (p->count > p->max_nodes) {
        *status = REFUSED;
        return -1;
    }
    return id;
}

/* -- the precedence parser (parse._Parser.expression, without the error wording) -- */

enum { O_CALL, O_PAREN, O_UNARY_MINUS, O_UNARY_PLUS, O_BINARY };

typedef struct {
    int kind, code, prec;
} Operator;

typedef struct {
    Py_ssize_t *operands;
    Operator *operators;
    Py_ssize_t n_operands, n_operators, cap_operands, cap_operators;
} Stacks;

static int push_operand(Stacks *st, Py_ssize_t id)
{
    if (st->n_operands == st->cap_operands) {
        Py_ssize_t cap = st->cap_operands ? st->cap_operands * 2 : 64;
        Py_ssize_t *mem = PyMem_Realloc(st->operands, sizeof(Py_ssize_t) * cap);
        if (!mem)
            return -1;
        st->operands = mem;
        st->cap_operands = cap;
    }
    st->operands[st->n_operands++] = id;
    return 0;
}

static int push_operator(Stacks *st, int kind, int code, int prec)
{
    if (st->n_operators == st->cap_operators) {
        Py_ssize_t cap = st->cap_operators ? st->cap_operators * 2 : 64;
        Operator *mem = PyMem_Realloc(st->operators, sizeof(Operator) * cap);
        if (!mem)
            return -1;
        st->operators = mem;
        st->cap_operators = cap;
    }
    st->operators[st->n_operators].kind = kind;
    st->operators[st->n_operators].code = code;
    st->operators[st->n_operators].prec = prec;
    st->n_operators++;
    return 0;
}

/* pop one operator and apply it to the operand stack (parse._Parser.reduce) */
static int reduce(Parser *p, Stacks *st)
{
    Operator op = st->operators[--st->n_operators];
    int status = OK;
    Py_ssize_t id;
    if (op.kind == O_UNARY_PLUS)
        return OK;
    if (op.kind == O_UNARY_MINUS) {
        Py_ssize_t operand = st->operands[st->n_operands - 1];
        CNode *x = &p->nodes[operand];
        if (x->code == CONST && !x->negated) { /* "-2" is a constant (label "-2") */
            id = leaf(p, CONST, x->u.text, x->aux, 1);
            if (id < 0)
                return FAILED;
        } else if ((id = apply(p, NEG, operand, -1, &status)) < 0) {
            return status;
        }
        st->operands[st->n_operands - 1] = id;
        return OK;
    }
    id = apply(p, op.code, st->operands[st->n_operands - 2], st->operands[st->n_operands - 1],
               &status);
    if (id < 0)
        return status;
    st->n_operands--;
    st->operands[st->n_operands - 1] = id;
    return OK;
}

static int binary_code(int kind, int *prec)
{
    switch (kind) {
    case '+': *prec = 1; return ADD;
    case '-': *prec = 1; return SUB;
    case '*': *prec = 2; return MUL;
    case '/': *prec = 2; return DIV;
    case '^': case T_POW: *prec = 4; return POW;
    }
    return -1;
}

static int ends_statement(int kind) { return kind == T_END || kind == ';' || kind == '\n'; }

/* an operand name: a statement name, pi or e, or an input */
static int name_operand(Parser *p, const Token *t, Py_ssize_t *id)
{
    const char *text = p->s + t->start;
    if (PyDict_GET_SIZE(p->bound)) {
        PyObject *key = PyUnicode_FromStringAndSize(text, t->len), *found;
        if (!key)
            return FAILED;
        found = PyDict_GetItemWithError(p->bound, key);
        Py_DECREF(key);
        if (found) {
            *id = PyLong_AsSsize_t(found);
            return OK;
        }
        if (PyErr_Occurred())
            return FAILED;
    }
    if (is_constant_name(p, t))
        *id = leaf(p, CONST, text, t->len, 0);
    else if (t->len >= 2 && text[0] == '_' && text[1] == '_')
        return REFUSED;
    else
        *id = leaf(p, INPUT, text, t->len, 0);
    return *id < 0 ? FAILED : OK;
}

static int number_operand(Parser *p, const Token *t, Py_ssize_t *id)
{
    char buffer[64], *heap = NULL, *text, *end;
    double value;
    if (t->len < (Py_ssize_t)sizeof(buffer)) {
        text = buffer;
    } else if (!(text = heap = PyMem_Malloc(t->len + 1))) {
        PyErr_NoMemory();
        return FAILED;
    }
    memcpy(text, p->s + t->start, t->len);
    text[t->len] = '\0';
    value = PyOS_string_to_double(text, &end, NULL); /* what float() calls */
    PyMem_Free(heap);
    if (value == -1.0 && PyErr_Occurred()) {
        PyErr_Clear(); /* not a number after all: Python says why */
        return REFUSED;
    }
    if (end != text + t->len || isinf(value))
        return REFUSED; /* too large for a double: Python says so */
    *id = leaf(p, CONST, p->s + t->start, t->len, 0);
    return *id < 0 ? FAILED : OK;
}

/* one expression from the cursor to ; newline or the end */
static int expression(Parser *p, Stacks *st, Py_ssize_t *result)
{
    int expect_operand = 1, status, code, prec;
    Py_ssize_t id;
    st->n_operands = st->n_operators = 0;
    for (;;) {
        Token t = p->tok;
        if ((++p->steps & 0xFFFFF) == 0 && PyErr_CheckSignals() < 0)
            return FAILED;
        if (expect_operand) {
            if (t.kind == T_NUM) {
                if ((status = number_operand(p, &t, &id)) != OK)
                    return status;
                if (push_operand(st, id) < 0)
                    goto no_memory;
                expect_operand = 0;
            } else if (t.kind == T_NAME) {
                code = function_code(p, &t);
                if (code >= 0) {
                    if (p->ahead.kind != '(' || ARITY[code] != 1)
                        return REFUSED; /* name(a, b): Python parses it */
                    if (push_operator(st, O_CALL, code, 0) < 0)
                        goto no_memory;
                    advance(p);
                } else if (p->ahead.kind == '(') {
                    return REFUSED; /* an unknown function, or a missing operator */
                } else {
                    if ((status = name_operand(p, &t, &id)) != OK)
                        return status;
                    if (push_operand(st, id) < 0)
                        goto no_memory;
                    expect_operand = 0;
                }
            } else if (t.kind == '(') {
                if (push_operator(st, O_PAREN, 0, 0) < 0)
                    goto no_memory;
            } else if (t.kind == '-' || t.kind == '+') {
                if (push_operator(st, t.kind == '-' ? O_UNARY_MINUS : O_UNARY_PLUS, 0, 3) < 0)
                    goto no_memory;
            } else {
                return REFUSED;
            }
        } else {
            if ((code = binary_code(t.kind, &prec)) >= 0) {
                int right_assoc = prec == 4;
                while (st->n_operators) {
                    Operator *top = &st->operators[st->n_operators - 1];
                    if (top->kind == O_CALL || top->kind == O_PAREN)
                        break;
                    if (!(top->prec > prec || (top->prec == prec && !right_assoc)))
                        break;
                    if ((status = reduce(p, st)) != OK)
                        return status;
                }
                if (push_operator(st, O_BINARY, code, prec) < 0)
                    goto no_memory;
                expect_operand = 1;
            } else if (t.kind == ')') {
                Operator open;
                while (st->n_operators && st->operators[st->n_operators - 1].kind != O_CALL
                       && st->operators[st->n_operators - 1].kind != O_PAREN)
                    if ((status = reduce(p, st)) != OK)
                        return status;
                if (!st->n_operators)
                    return REFUSED;
                open = st->operators[--st->n_operators];
                if (open.kind == O_CALL) {
                    status = OK;
                    id = apply(p, open.code, st->operands[st->n_operands - 1], -1, &status);
                    if (id < 0)
                        return status;
                    st->operands[st->n_operands - 1] = id;
                }
            } else if (ends_statement(t.kind)) {
                while (st->n_operators) {
                    int kind = st->operators[st->n_operators - 1].kind;
                    if (kind == O_CALL || kind == O_PAREN)
                        return REFUSED; /* '(' is never closed */
                    if ((status = reduce(p, st)) != OK)
                        return status;
                }
                *result = st->operands[st->n_operands - 1];
                return OK;
            } else {
                return REFUSED;
            }
        }
        advance(p);
    }
no_memory:
    PyErr_NoMemory();
    return FAILED;
}

/* whether the name at t is an input of the graph so far */
static int is_input(Parser *p, const Token *t)
{
    CNode x;
    size_t h;
    memset(&x, 0, sizeof(x));
    x.code = INPUT;
    x.u.text = p->s + t->start;
    x.aux = (int32_t)t->len;
    if (p->cap) {
        for (h = node_hash(&x) & p->table_mask; p->table[h]; h = (h + 1) & p->table_mask)
            if (node_equal(&p->nodes[p->table[h] - 1], &x))
                return 1;
    }
    return 0;
}

/* a statement's target: not built in, not bound before, not used as an input before */
static int check_target(Parser *p, const Token *t, PyObject **name)
{
    if (function_code(p, t) >= 0 || is_constant_name(p, t))
        return REFUSED;
    if (!(*name = PyUnicode_FromStringAndSize(p->s + t->start, t->len)))
        return FAILED;
    if (PyDict_Contains(p->bound, *name))
        return REFUSED;
    return is_input(p, t) ? REFUSED : OK;
}

/* every statement of one text (parse._Parser.parse); output and the span that names it */
static int statements(Parser *p, Stacks *st, Py_ssize_t *output, Py_ssize_t *span)
{
    int bare = 0, status;
    *output = -1;
    while (p->tok.kind != T_END) {
        Token t = p->tok;
        PyObject *target = NULL;
        if (t.kind == ';' || t.kind == '\n') {
            advance(p);
            continue;
        }
        if (bare)
            return REFUSED; /* only the last statement may be a bare expression */
        if (t.kind == T_NAME && p->ahead.kind == '=') {
            if ((status = check_target(p, &t, &target)) != OK) {
                Py_XDECREF(target);
                return status;
            }
            advance(p);
            advance(p);
        }
        span[0] = p->tok.start;
        status = expression(p, st, output);
        if (status == OK && target && is_input(p, &t))
            status = REFUSED; /* used in its own definition: Python says where */
        if (status != OK) {
            Py_XDECREF(target);
            return status;
        }
        if (target) {
            PyObject *id = PyLong_FromSsize_t(*output);
            int failed = !id || PyDict_SetItem(p->bound, target, id) < 0;
            if (!failed && !is_leaf(p->nodes[*output].code))
                failed = PyDict_SetDefault(p->labels, id, target) == NULL;
            Py_XDECREF(id);
            Py_DECREF(target);
            if (failed)
                return FAILED;
            span[0] = t.start;
            span[1] = t.start + t.len;
            span[2] = 1;
            bare = 0;
        } else {
            span[1] = p->tok.start;
            span[2] = 0;
            bare = 1;
        }
    }
    return *output < 0 ? REFUSED : OK; /* an empty expression */
}

static PyObject *new_node(PyTypeObject *type, PyObject *op, PyObject *args, PyObject *label,
                          PyObject *value)
{
    PyObject *node = type->tp_alloc(type, 4);
    if (!node) {
        Py_DECREF(args);
        Py_DECREF(label);
        Py_DECREF(value);
        return NULL;
    }
    PyTuple_SET_ITEM(node, 0, Py_NewRef(op));
    PyTuple_SET_ITEM(node, 1, args);
    PyTuple_SET_ITEM(node, 2, label);
    PyTuple_SET_ITEM(node, 3, value);
    /* Nodes hold only strings, numbers and tuples of ints, so they can never be part of a
       cycle: untracked from birth, the cyclic collector never walks the millions of them
       (CPython untracks such tuples itself, but only after walking them once) */
    PyObject_GC_UnTrack(args);
    PyObject_GC_UnTrack(node);
    return node;
}

/* a constant's value, from its text as float() reads it (pi and e are named) */
static PyObject *constant_value(const CNode *x)
{
    char buffer[64], *heap = NULL, *text = buffer;
    double value;
    if (x->aux == 2 && memcmp(x->u.text, "pi", 2) == 0) {
        value = Py_MATH_PI;
    } else if (x->aux == 1 && x->u.text[0] == 'e') {
        value = Py_MATH_E;
    } else {
        if (x->aux >= (int32_t)sizeof(buffer) && !(text = heap = PyMem_Malloc(x->aux + 1)))
            return PyErr_NoMemory();
        memcpy(text, x->u.text, x->aux);
        text[x->aux] = '\0';
        value = PyOS_string_to_double(text, NULL, NULL);
        PyMem_Free(heap);
        if (value == -1.0 && PyErr_Occurred())
            return NULL;
    }
    return PyFloat_FromDouble(x->negated ? -value : value);
}

static PyObject *leaf_label(const CNode *x)
{
    PyObject *text = PyUnicode_FromStringAndSize(x->u.text, x->aux), *label;
    if (!text || !x->negated)
        return text;
    label = PyUnicode_FromFormat("-%U", text);
    Py_DECREF(text);
    return label;
}

/* the graph.Node tuples of the parsed graph, and the ids of its inputs */
static PyObject *materialize(Parser *p, PyTypeObject *node_type, PyObject **inputs)
{
    PyObject *nodes = PyTuple_New(p->count), *empty = PyTuple_New(0);
    Py_ssize_t i;
    *inputs = PyList_New(0);
    if (!nodes || !empty || !*inputs)
        goto fail;
    for (i = 0; i < p->count; i++) {
        const CNode *x = &p->nodes[i];
        PyObject *args, *label = NULL, *value = NULL, *node;
        if (x->code == INPUT) {
            PyObject *id = PyLong_FromSsize_t(i);
            if (!id || PyList_Append(*inputs, id) < 0) {
                Py_XDECREF(id);
                goto fail;
            }
            Py_DECREF(id);
        }
        if (is_leaf(x->code)) {
            args = Py_NewRef(empty);
            label = leaf_label(x);
            value = x->code == CONST ? constant_value(x) : Py_NewRef(Py_None);
        } else {
            args = x->u.args.b >= 0 ? Py_BuildValue("(ii)", x->u.args.a, x->u.args.b)
                                    : Py_BuildValue("(i)", x->u.args.a);
            if (PyDict_GET_SIZE(p->labels)) {
                PyObject *key = PyLong_FromSsize_t(i);
                label = key ? PyDict_GetItemWithError(p->labels, key) : NULL;
                Py_XDECREF(key);
                if (!label && PyErr_Occurred()) {
                    Py_XDECREF(args);
                    goto fail;
                }
            }
            label = Py_NewRef(label ? label : Py_None);
            value = Py_NewRef(Py_None);
        }
        if (!args || !label || !value) {
            Py_XDECREF(args);
            Py_XDECREF(label);
            Py_XDECREF(value);
            goto fail;
        }
        if (!(node = new_node(node_type, code_names[x->code], args, label, value)))
            goto fail;
        PyTuple_SET_ITEM(nodes, i, node);
        if ((i & 0xFFFFF) == 0xFFFFF && PyErr_CheckSignals() < 0)
            goto fail;
    }
    Py_DECREF(empty);
    return nodes;
fail:
    Py_XDECREF(nodes);
    Py_XDECREF(empty);
    Py_CLEAR(*inputs);
    return NULL;
}

/* parse(texts, max_nodes, max_depth, Node) -> (nodes, inputs, outputs, spans) or None
 * spans[i] = (start, stop, is_target): where the name of text i's output is. */
/* Everything a parse holds, released (as flat_free does for a Flat). */
static void parser_free(Parser *p, Stacks *st)
{
    Py_XDECREF(p->bound);
    Py_XDECREF(p->labels);
    PyMem_Free(p->nodes);
    PyMem_Free(p->table);
    PyMem_Free(st->operands);
    PyMem_Free(st->operators);
}

static PyObject *core_parse(PyObject *Py_UNUSED(self), PyObject *args)
{
    PyObject *texts, *node_type, *result = NULL, *nodes = NULL, *inputs = NULL;
    PyObject *outputs = NULL, *spans = NULL;
    Py_ssize_t max_nodes, i, output, span[3] = {0, 0, 0};
    long long max_depth;
    Parser p;
    Stacks st;
    int status = OK;
    if (!PyArg_ParseTuple(args, "O!nLO!:parse", &PyTuple_Type, &texts, &max_nodes,
                          &max_depth, &PyType_Type, &node_type))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)node_type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "Node must be a tuple type");
        return NULL;
    }
    memset(&p, 0, sizeof(p));
    memset(&st, 0, sizeof(st));
    p.max_nodes = max_nodes;
    p.max_depth = max_depth;
    p.labels = PyDict_New();
    outputs = PyList_New(0);
    spans = PyList_New(0);
    if (!p.labels || !outputs || !spans)
        goto fail;
    for (i = 0; i < PyTuple_GET_SIZE(texts); i++) {
        PyObject *text = PyTuple_GET_ITEM(texts, i), *item;
        if (!PyUnicode_Check(text) || !PyUnicode_IS_ASCII(text))
            goto refuse; /* the Python tokenizer judges other characters */
        p.s = (const char *)PyUnicode_DATA(text);
        p.n = PyUnicode_GET_LENGTH(text);
        p.pos = 0;
        if (p.n > MAX_IDS || memchr(p.s, '\0', p.n))
            goto refuse;
        Py_XSETREF(p.bound, PyDict_New()); /* statement names are local to a text */
        if (!p.bound)
            goto fail;
        p.ahead = scan(&p);
        advance(&p);
        status = statements(&p, &st, &output, span);
        if (status == REFUSED)
            goto refuse;
        if (status == FAILED)
            goto fail;
        item = PyLong_FromSsize_t(output);
        if (!item || PyList_Append(outputs, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
        item = Py_BuildValue("(nnO)", span[0], span[1], span[2] ? Py_True : Py_False);
        if (!item || PyList_Append(spans, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    if (!(nodes = materialize(&p, (PyTypeObject *)node_type, &inputs)))
        goto fail;
    result = PyTuple_Pack(4, nodes, inputs, outputs, spans);
    goto done;
refuse:
    result = Py_NewRef(Py_None);
    goto done;
fail: /* result is still NULL, and the exception is set */
done:
    Py_XDECREF(nodes);
    Py_XDECREF(inputs);
    Py_XDECREF(outputs);
    Py_XDECREF(spans);
    parser_free(&p, &st);
    return result;
}

/* ---- the module ---------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"parse", core_parse, METH_VARARGS,
     "parse(texts, max_nodes, max_depth, Node) -> (nodes, inputs, outputs, spans) or None"},
    {"evaluate", core_evaluate, METH_VARARGS,
     "evaluate(nodes, point) -> the value of every node (floats), or None"},
    {"reverse", core_reverse, METH_VARARGS,
     "reverse(nodes, values, wrt, outputs) -> (jacobian, partials, additions, peak, "
     "primitive evaluations), or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "backprop._core",
    "The compiled core: parse, evaluate and reverse, as the pure-Python modules do them.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__core(void)
{
    PyObject *m = PyModule_Create(&module), *names;
    int code;
    if (!m)
        return NULL;
    if (!(code_of = PyDict_New()) || !(names = PyTuple_New(N_OPS)))
        goto fail;
    for (code = 0; code < N_CODES; code++) {
        PyObject *number;
        if (!(code_names[code] = PyUnicode_InternFromString(CODE_NAMES[code])))
            goto fail;
        if (!(number = PyLong_FromLong(code))
            || PyDict_SetItem(code_of, code_names[code], number) < 0) {
            Py_XDECREF(number);
            goto fail;
        }
        Py_DECREF(number);
        if (code < N_OPS)
            PyTuple_SET_ITEM(names, code, Py_NewRef(code_names[code]));
    }
    if (PyModule_AddObject(m, "OP_NAMES", names) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
