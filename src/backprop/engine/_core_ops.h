/* Generated from ops.py by `python -m backprop.engine.cgen`: do not edit.
 * Each op's value and partials are ops.OPS run on backprop.engine.cgen.C; the f_* helpers
 * are backends.FLOAT's primitives, written in _core.c. */

/* the op codes: ops.OPS in order, then ops.LEAVES (accel.py checks the names) */
enum {
    ADD, SUB, MUL, DIV, NEG, POW, SIN, COS, TAN, ASIN, ACOS, ATAN, SINH, COSH, TANH,
    EXP, LOG, SQRT, ABS, SIGMOID, RELU, SIGN, STEP, TIMES, INPUT, CONST, N_CODES
};
#define N_OPS 24
#define FIRST_FUNCTION SIN
#define LAST_FUNCTION TIMES

static const char *CODE_NAMES[N_CODES] = {
    "add", "sub", "mul", "div", "neg", "pow", "sin", "cos", "tan", "asin", "acos",
    "atan", "sinh", "cosh", "tanh", "exp", "log", "sqrt", "abs", "sigmoid", "relu",
    "sign", "step", "times", "input", "const"
};
static const unsigned char ARITY[N_CODES] = {
    2, 2, 2, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0
};

/* the value of an op node (OPS[op].value) */
static double op_value(int code, double a, double b)
{
    switch (code) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return f_div(a, b);
    case NEG: return -a;
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
    }
    return Py_NAN;
}

/* d(out)/d(a) and d(out)/d(b) (OPS[op].partials) */
static void op_partials(int code, double out, double a, double b, double *pa, double *pb)
{
    switch (code) {
    case ADD: *pa = 1.0; *pb = 1.0; return;
    case SUB: *pa = 1.0; *pb = -1.0; return;
    case MUL: *pa = b; *pb = a; return;
    case DIV: *pa = f_div(1.0, b); *pb = -f_div(out, b); return;
    case NEG: *pa = -1.0; return;
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
    }
}
