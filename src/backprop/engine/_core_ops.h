/* Generated from ops.py by `python -m backprop.engine.cgen`: do not edit.
 * Each op's value and partials are ops.OPS run on backprop.engine.cgen.C; the f_* helpers
 * are backends.FLOAT's primitives, written in _core.c. */

/* the op codes: ops.OPS in order, then ops.LEAVES (accel.py checks the names) */
enum {
    ADD, SUB, MUL, DIV, NEG, LT, LE, GT, GE, POW, SIN, COS, TAN, ASIN, ACOS, ATAN, SINH,
    COSH, TANH, EXP, LOG, SQRT, ABS, SIGMOID, RELU, SIGN, STEP, TIMES, MAX, MIN, WHERE,
    ATAN2, HYPOT, FLOOR, CEIL, LEAKY_RELU, ELU, GELU, ERF, LOG1P, EXPM1, SOFTPLUS,
    LOG_SIGMOID, LOGSUMEXP, INPUT, CONST, N_CODES
};
#define N_OPS 44
#define FIRST_FUNCTION SIN
#define LAST_FUNCTION LOGSUMEXP

static const char *CODE_NAMES[N_CODES] = {
    "add", "sub", "mul", "div", "neg", "lt", "le", "gt", "ge", "pow", "sin", "cos",
    "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log", "sqrt", "abs",
    "sigmoid", "relu", "sign", "step", "times", "max", "min", "where", "atan2", "hypot",
    "floor", "ceil", "leaky_relu", "elu", "gelu", "erf", "log1p", "expm1", "softplus",
    "log_sigmoid", "logsumexp", "input", "const"
};
static const unsigned char ARITY[N_CODES] = {
    2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2,
    2, 2, 3, 2, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0
};
#define MAX_ARITY 3
/* ops whose exact-zero partial is a branch not taken (ops.Op.selects, evaluate.py) */
static const unsigned char SELECTS[N_CODES] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

/* the value of an op node (OPS[op].value) */
static double op_value(int code, double a, double b, double c)
{
    switch (code) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return f_div(a, b);
    case NEG: return -a;
    case LT: return f_lt(a, b);
    case LE: return f_le(a, b);
    case GT: return f_gt(a, b);
    case GE: return f_ge(a, b);
    case POW: return f_pow(a, b);
    case SIN: return f_sin(a);
    case COS: return f_cos(a);
    case TAN: return f_tan(a);
    case ASIN: return f_asin(a);
    case ACOS: return f_acos(a);
    case ATAN: return f_atan(a);
    case SINH: return f_sinh(a);
    case COSH: return f_cosh(a);
    case TANH: return f_tanh(a);
    case EXP: return f_exp(a);
    case LOG: return f_log(a);
    case SQRT: return f_sqrt(a);
    case ABS: return f_abs(a);
    case SIGMOID: return f_sigmoid(a);
    case RELU: return f_relu(a);
    case SIGN: return f_sign(a);
    case STEP: return f_step(a);
    case TIMES: return f_times(a, b);
    case MAX: return f_max(a, b);
    case MIN: return f_min(a, b);
    case WHERE: return f_where(a, b, c);
    case ATAN2: return f_atan2(a, b);
    case HYPOT: return f_hypot(a, b);
    case FLOOR: return f_floor(a);
    case CEIL: return f_ceil(a);
    case LEAKY_RELU: return f_where(f_gt(a, 0.0), a, b * a);
    case ELU: return f_where(f_gt(a, 0.0), a, f_expm1(a));
    case GELU: return 0.5 * a * (1.0 + f_erf(a * f_div(1.0, f_sqrt(2.0))));
    case ERF: return f_erf(a);
    case LOG1P: return f_log1p(a);
    case EXPM1: return f_expm1(a);
    case SOFTPLUS: return f_relu(a) + f_log1p(f_exp(-f_abs(a)));
    case LOG_SIGMOID: return -(f_relu(-a) + f_log1p(f_exp(-f_abs(-a))));
    case LOGSUMEXP: return f_max(a, b) + f_log1p(f_exp(-f_abs(a - b)));
    }
    return Py_NAN;
}

/* d(out)/d(a), d(out)/d(b) and d(out)/d(c) (OPS[op].partials) */
static void op_partials(int code, double out, double a, double b, double c,
                        double *pa, double *pb, double *pc)
{
    switch (code) {
    case ADD: *pa = 1.0; *pb = 1.0; return;
    case SUB: *pa = 1.0; *pb = -1.0; return;
    case MUL: *pa = b; *pb = a; return;
    case DIV: *pa = f_div(1.0, b); *pb = -f_div(out, b); return;
    case NEG: *pa = -1.0; return;
    case LT: *pa = 0.0; *pb = 0.0; return;
    case LE: *pa = 0.0; *pb = 0.0; return;
    case GT: *pa = 0.0; *pb = 0.0; return;
    case GE: *pa = 0.0; *pb = 0.0; return;
    case POW: *pa = f_times(b, f_pow(a, b - 1.0)); *pb = f_times(out, f_log(a)); return;
    case SIN: *pa = f_cos(a); return;
    case COS: *pa = -f_sin(a); return;
    case TAN: *pa = 1.0 + out * out; return;
    case ASIN: *pa = f_div(1.0, f_sqrt(1.0 - a * a)); return;
    case ACOS: *pa = -f_div(1.0, f_sqrt(1.0 - a * a)); return;
    case ATAN: *pa = f_div(1.0, 1.0 + a * a); return;
    case SINH: *pa = f_cosh(a); return;
    case COSH: *pa = f_sinh(a); return;
    case TANH: *pa = 1.0 - out * out; return;
    case EXP: *pa = out; return;
    case LOG: *pa = f_div(1.0, a); return;
    case SQRT: *pa = f_div(1.0, 2.0 * out); return;
    case ABS: *pa = f_sign(a); return;
    case SIGMOID: *pa = out * (1.0 - out); return;
    case RELU: *pa = f_step(a); return;
    case SIGN: *pa = 0.0; return;
    case STEP: *pa = 0.0; return;
    case TIMES: *pa = b; *pb = a; return;
    case MAX: *pa = f_where(f_ge(a, b), 1.0, 0.0); *pb = f_where(f_ge(a, b), 0.0, 1.0); return;
    case MIN: *pa = f_where(f_le(a, b), 1.0, 0.0); *pb = f_where(f_le(a, b), 0.0, 1.0); return;
    case WHERE: *pa = 0.0; *pb = f_where(a, 1.0, 0.0); *pc = f_where(a, 0.0, 1.0); return;
    case ATAN2: *pa = f_div(b, b * b + a * a); *pb = f_div(-a, b * b + a * a); return;
    case HYPOT: *pa = f_times(a, f_div(1.0, out)); *pb = f_times(b, f_div(1.0, out)); return;
    case FLOOR: *pa = 0.0; return;
    case CEIL: *pa = 0.0; return;
    case LEAKY_RELU: *pa = f_where(f_gt(a, 0.0), 1.0, b); *pb = f_where(f_gt(a, 0.0), 0.0, a); return;
    case ELU: *pa = f_where(f_gt(a, 0.0), 1.0, f_exp(a)); return;
    case GELU: *pa = 0.5 * (1.0 + f_erf(a * f_div(1.0, f_sqrt(2.0)))) + a * f_div(f_exp(-0.5 * (a * a)), f_sqrt(2.0 * 3.141592653589793)); return;
    case ERF: *pa = f_div(2.0 * f_exp(-(a * a)), f_sqrt(3.141592653589793)); return;
    case LOG1P: *pa = f_div(1.0, 1.0 + a); return;
    case EXPM1: *pa = f_exp(a); return;
    case SOFTPLUS: *pa = f_sigmoid(a); return;
    case LOG_SIGMOID: *pa = f_sigmoid(-a); return;
    case LOGSUMEXP: *pa = f_sigmoid(a - b); *pb = f_sigmoid(b - a); return;
    }
}
