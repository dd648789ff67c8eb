/*
 * mcpguard.detect._textscan — the one-byte-per-character scan buffer of a str, in one C pass.
 *
 * The engine scans bytes, one byte per character of the (folded) text, so that a span in the buffer is the same span
 * in the str. For text that needs no folding (mcpguard.detect.normalize), that buffer is the text with every
 * non-ASCII character written as '?'. Python builds it with a per-leaf fold screen (UTF-8 encode + translate) and
 * str.encode("ascii", "replace"); this module does both in one pass over the str's code points.
 *
 * The fold ranges are handed in once from Python (normalize._FOLD_RANGES), so there is one source of truth; code
 * points below 0x10000 are looked up in a 64 Kibit bitmap, the few astral ranges are compared directly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_ASTRAL 16

static unsigned char bmp_bits[0x10000 / 8];
static Py_UCS4 astral_lo[MAX_ASTRAL], astral_hi[MAX_ASTRAL];
static int n_astral = 0;
static int ranges_set = 0;

static inline int in_fold_range(Py_UCS4 cp)
{
    if (cp < 0x10000)
        return (bmp_bits[cp >> 3] >> (cp & 7)) & 1;
    for (int i = 0; i < n_astral; i++)
        if (cp >= astral_lo[i] && cp <= astral_hi[i])
            return 1;
    return 0;
}

PyDoc_STRVAR(set_fold_ranges_doc,
"set_fold_ranges(ranges, /) -> None\n\n"
"Install the code point ranges whose characters may fold: an iterable of (lo, hi) int pairs, inclusive, each\n"
"0 <= lo <= hi <= 0x10FFFF; at most 16 ranges may lie above U+FFFF. Replaces any earlier set.\n"
"Raises TypeError / ValueError for a malformed range.");

static PyObject *set_fold_ranges(PyObject *self, PyObject *arg)
{
    (void)self;
    unsigned char bits[sizeof bmp_bits];
    Py_UCS4 lo_a[MAX_ASTRAL], hi_a[MAX_ASTRAL];
    int na = 0;
    memset(bits, 0, sizeof bits);
    PyObject *seq = PySequence_Fast(arg, "ranges must be a sequence of (lo, hi) pairs");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long lo, hi;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "kk", &lo, &hi)) {
            Py_DECREF(seq);
            return NULL;
        }
        if (lo > hi || hi > 0x10FFFF) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "a fold range must satisfy 0 <= lo <= hi <= 0x10FFFF");
            return NULL;
        }
        for (unsigned long cp = lo; cp <= hi && cp < 0x10000; cp++)
            bits[cp >> 3] |= (unsigned char)(1u << (cp & 7));
        if (hi >= 0x10000) {
            if (na == MAX_ASTRAL) {
                Py_DECREF(seq);
                PyErr_SetString(PyExc_ValueError, "too many fold ranges above U+FFFF (at most 16)");
                return NULL;
            }
            lo_a[na] = (Py_UCS4)(lo < 0x10000 ? 0x10000 : lo);
            hi_a[na] = (Py_UCS4)hi;
            na++;
        }
    }
    Py_DECREF(seq);
    memcpy(bmp_bits, bits, sizeof bits);
    memcpy(astral_lo, lo_a, sizeof lo_a);
    memcpy(astral_hi, hi_a, sizeof hi_a);
    n_astral = na;
    ranges_set = 1;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(ascii_view_doc,
"ascii_view(text, /) -> bytes | None\n\n"
"The scan buffer of text: len(text) bytes, each ASCII character as itself and every other character as b'?' --\n"
"equal to text.encode('ascii', 'replace') -- when no character of text lies in a fold range (so folding text is\n"
"the identity); None when some character may fold (the caller folds in Python). O(len(text)), one pass.\n"
"Raises TypeError when text is not a str, RuntimeError before set_fold_ranges was called.");

static PyObject *ascii_view(PyObject *self, PyObject *text)
{
    (void)self;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "ascii_view() needs a str");
        return NULL;
    }
    if (!ranges_set) {
        PyErr_SetString(PyExc_RuntimeError, "set_fold_ranges() was not called");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (out == NULL)
        return NULL;
    char *dst = PyBytes_AS_STRING(out);
    /* One loop per string kind so the compiler sees a fixed element width; FOLDS(c) tests a non-ASCII character. */
#define ASCII_VIEW_LOOP(T, FOLDS)                   \
    do {                                            \
        const T *s = (const T *)data;               \
        for (Py_ssize_t i = 0; i < n; i++) {        \
            T c = s[i];                             \
            if (c < 0x80) {                         \
                dst[i] = (char)c;                   \
            } else if (FOLDS(c)) {                  \
                Py_DECREF(out);                     \
                Py_RETURN_NONE;                     \
            } else {                                \
                dst[i] = '?';                       \
            }                                       \
        }                                           \
    } while (0)
#define BMP_FOLDS(c) ((bmp_bits[(c) >> 3] >> ((c) & 7)) & 1)
    if (kind == PyUnicode_1BYTE_KIND)
        ASCII_VIEW_LOOP(Py_UCS1, in_fold_range);
    else if (kind == PyUnicode_2BYTE_KIND)
        ASCII_VIEW_LOOP(Py_UCS2, BMP_FOLDS);
    else
        ASCII_VIEW_LOOP(Py_UCS4, in_fold_range);
#undef BMP_FOLDS
#undef ASCII_VIEW_LOOP
    return out;
}

PyDoc_STRVAR(may_fold_doc,
"may_fold(text, /) -> bool\n\n"
"True when some character of text lies in a fold range (folding may change it), False when folding text is\n"
"certainly the identity. Raises TypeError when text is not a str, RuntimeError before set_fold_ranges.");

static PyObject *may_fold(PyObject *self, PyObject *text)
{
    (void)self;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "may_fold() needs a str");
        return NULL;
    }
    if (!ranges_set) {
        PyErr_SetString(PyExc_RuntimeError, "set_fold_ranges() was not called");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (kind == PyUnicode_1BYTE_KIND && PyUnicode_IS_ASCII(text))
        Py_RETURN_FALSE;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0x80 && in_fold_range(c))
            Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

static PyMethodDef methods[] = {
    {"set_fold_ranges", set_fold_ranges, METH_O, set_fold_ranges_doc},
    {"ascii_view", ascii_view, METH_O, ascii_view_doc},
    {"may_fold", may_fold, METH_O, may_fold_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "mcpguard.detect._textscan",
    "The one-byte-per-character scan buffer of a str in one C pass (see mcpguard.detect.normalize).",
    -1,
    methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__textscan(void)
{
    return PyModule_Create(&module);
}
