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
 *
 * It also holds encoded_runs(), the base64/hex run finder of mcpguard.detect.decode: git logs and listings carry a
 * hash every ~150 bytes, and finding and pre-rejecting those runs per run in Python cost ~15 ms per MB.
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

/* 1 when text is a str and the fold ranges are installed; else 0 with TypeError / RuntimeError set. */
static int text_ready(PyObject *text, const char *fn)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "%s() needs a str", fn);
        return 0;
    }
    if (!ranges_set) {
        PyErr_SetString(PyExc_RuntimeError, "set_fold_ranges() was not called");
        return 0;
    }
    return 1;
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
    if (!text_ready(text, "ascii_view"))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (PyUnicode_IS_ASCII(text))  /* ASCII is never folded and is its own scan buffer */
        return PyBytes_FromStringAndSize((const char *)data, n);
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
    if (!text_ready(text, "may_fold"))
        return NULL;
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

/* RFC 4648 base64 values (both alphabets: '+' and '-' are 62, '/' and '_' are 63), -1 elsewhere. */
static signed char b64_value[256];
/* Run alphabet: 2 for the run core (base64 characters but '-'), 1 for '-', 0 elsewhere. */
static unsigned char run_class[256];
/* decode.RESTART: bytes at a run's start searched for a separator after which the encoded value may start. */
#define RESTART_SPAN 48
/* decode._FIRST: bytes that can begin base64 or hex of text. */
static unsigned char first_ok[256];

static void init_tables(void)
{
    const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *first = "CDEFGHIJKLMNOPQRSTUVWXYZabcdefwxyz0123456789";
    memset(b64_value, -1, sizeof b64_value);
    for (int i = 0; b64[i]; i++)
        b64_value[(unsigned char)b64[i]] = (signed char)i;
    b64_value['-'] = 62;
    b64_value['_'] = 63;
    for (int c = 0; c < 256; c++)
        run_class[c] = b64_value[c] >= 0 ? 2 : 0;
    run_class['-'] = 1;
    for (int i = 0; first[i]; i++)
        first_ok[(unsigned char)first[i]] = 1;
}

static inline int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* 1 when the k bytes could start UTF-8 text: tab, LF, CR, printable ASCII, or a lead byte C2-F4 followed by its
 * continuation bytes (a sequence cut by the end of the k bytes is allowed). */
static int text_start(const unsigned char *b, int k)
{
    int i = 0;
    while (i < k) {
        unsigned char c = b[i];
        if (c < 0x80) {
            if (!(c == 9 || c == 10 || c == 13 || (c >= 0x20 && c < 0x7f)))
                return 0;
            i++;
        } else if (c >= 0xc2 && c <= 0xf4) {
            int need = c < 0xe0 ? 1 : (c < 0xf0 ? 2 : 3);
            for (int j = 1; j <= need; j++) {
                if (i + j >= k)
                    return 1;
                if ((b[i + j] & 0xc0) != 0x80)
                    return 0;
            }
            i += need + 1;
        } else {
            return 0;
        }
    }
    return 1;
}

/* 1 when the k bytes could start UTF-16LE text of ASCII characters (PowerShell -EncodedCommand, .NET strings):
 * printable ASCII, tab, CR or LF at even offsets, zero at odd ones. */
static int utf16_start(const unsigned char *b, int k)
{
    k -= k % 2;
    if (k < 4)
        return 0;
    for (int i = 0; i < k; i += 2) {
        unsigned char c = b[i];
        if (b[i + 1] != 0 || !(c == 9 || c == 10 || c == 13 || (c >= 0x20 && c < 0x7f)))
            return 0;
    }
    return 1;
}

/* 1 when run[0:n] decodes, as hex (first 8 digits after an optional 0x) or as base64 (first 8 characters), to bytes
 * that could start text (UTF-8, or UTF-16LE of ASCII). */
static int plausible_start(const unsigned char *r, Py_ssize_t n)
{
    unsigned char out[4];
    Py_ssize_t off = (n >= 2 && r[0] == '0' && (r[1] == 'x' || r[1] == 'X')) ? 2 : 0;
    if (n - off >= 8) {
        int ok = 1;
        for (int i = 0; i < 4 && ok; i++) {
            int hi = hex_value(r[off + 2 * i]), lo = hex_value(r[off + 2 * i + 1]);
            if (hi < 0 || lo < 0)
                ok = 0;
            else
                out[i] = (unsigned char)(hi << 4 | lo);
        }
        if (ok && (text_start(out, 4) || utf16_start(out, 4)))
            return 1;
    }
    if (n >= 8) {
        unsigned char six[6];
        for (int g = 0; g < 2; g++) {
            const unsigned char *q = r + 4 * g;
            int v0 = b64_value[q[0]], v1 = b64_value[q[1]], v2 = b64_value[q[2]], v3 = b64_value[q[3]];
            if (v0 < 0 || v1 < 0 || v2 < 0 || v3 < 0)
                return 0;
            six[3 * g] = (unsigned char)(v0 << 2 | v1 >> 4);
            six[3 * g + 1] = (unsigned char)((v1 & 15) << 4 | v2 >> 2);
            six[3 * g + 2] = (unsigned char)((v2 & 3) << 6 | v3);
        }
        return text_start(six, 6) || utf16_start(six, 6);
    }
    return 0;
}

PyDoc_STRVAR(encoded_runs_doc,
"encoded_runs(buf, min_run, /) -> list[tuple[int, int]]\n\n"
"Half-open (start, end) spans of the base64/hex runs of buf that mcpguard.detect.decode tries to decode, in order:\n"
"a stretch of at least min_run base64 characters other than '-' (either RFC 4648 alphabet), extended over adjacent\n"
"'-' and base64 characters when a '-' touches it (at most 4096 bytes back, never into the previous run). Each span\n"
"starts where the encoded value plausibly starts: the run's start, or just after a '/', '+', '-' or '_' within its\n"
"first 48 bytes, whichever first has a byte that can begin encoded text, first bytes that decode (as hex or as\n"
"base64) to a plausible start of UTF-8 text, and min_run bytes left; runs with no such start are left out.\n"
"O(len(buf)); the GIL is released during the pass. Raises TypeError when buf is not bytes-like, ValueError when\n"
"min_run < 4.");

static PyObject *encoded_runs(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer view;
    Py_ssize_t min_run;
    if (!PyArg_ParseTuple(args, "y*n:encoded_runs", &view, &min_run))
        return NULL;
    if (min_run < 4) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "min_run must be at least 4");
        return NULL;
    }
    const unsigned char *b = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len;
    /* Collected as flat (start, end) pairs without the GIL, then turned into a list of tuples. */
    Py_ssize_t cap = 64, count = 0;
    Py_ssize_t *spans = PyMem_RawMalloc(cap * 2 * sizeof(Py_ssize_t));
    if (spans == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t prev = 0, j = 0;
    while (j < n) {
        if (run_class[b[j]] != 2) {
            j++;
            continue;
        }
        Py_ssize_t s = j;
        while (j < n && run_class[b[j]] == 2)
            j++;
        if (j - s < min_run)
            continue;
        Py_ssize_t e = j;
        if ((e < n && b[e] == '-') || (s > 0 && b[s - 1] == '-')) {
            while (e < n && run_class[b[e]])
                e++;
            Py_ssize_t lo = s - 4096 > prev ? s - 4096 : prev;
            while (s > lo && run_class[b[s - 1]])
                s--;
        }
        /* Where the encoded value starts: s, or just after a '/', '+', '-' or '_' in the run's first RESTART_SPAN
         * bytes (a path or prefix glued to it), whichever is first plausible with MIN_RUN bytes left. */
        Py_ssize_t start = -1;
        if (first_ok[b[s]] && plausible_start(b + s, e - s)) {
            start = s;
        } else {
            Py_ssize_t lim = s + RESTART_SPAN < e - min_run ? s + RESTART_SPAN : e - min_run;
            for (Py_ssize_t q = s; q < lim; q++) {
                unsigned char c = b[q];
                if ((c == '/' || c == '+' || c == '-' || c == '_') && first_ok[b[q + 1]] &&
                    plausible_start(b + q + 1, e - q - 1)) {
                    start = q + 1;
                    break;
                }
            }
        }
        if (start >= 0) {
            if (count == cap) {
                Py_ssize_t *grown = PyMem_RawRealloc(spans, cap * 4 * sizeof(Py_ssize_t));
                if (grown == NULL) {
                    failed = 1;
                    break;
                }
                spans = grown;
                cap *= 2;
            }
            spans[2 * count] = start;
            spans[2 * count + 1] = e;
            count++;
        }
        prev = e;
        j = e;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (failed) {
        PyMem_RawFree(spans);
        return PyErr_NoMemory();
    }
    PyObject *out = PyList_New(count);
    if (out == NULL) {
        PyMem_RawFree(spans);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *t = Py_BuildValue("(nn)", spans[2 * k], spans[2 * k + 1]);
        if (t == NULL) {
            Py_DECREF(out);
            PyMem_RawFree(spans);
            return NULL;
        }
        PyList_SET_ITEM(out, k, t);
    }
    PyMem_RawFree(spans);
    return out;
}

static PyMethodDef methods[] = {
    {"set_fold_ranges", set_fold_ranges, METH_O, set_fold_ranges_doc},
    {"ascii_view", ascii_view, METH_O, ascii_view_doc},
    {"may_fold", may_fold, METH_O, may_fold_doc},
    {"encoded_runs", encoded_runs, METH_VARARGS, encoded_runs_doc},
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
    init_tables();
    return PyModule_Create(&module);
}
