/* mcpguard.detect._numscan: the numeric candidate scan of mcpguard/detect/pii/numbers.py, with its shape-only rejects.
 *
 * One left-to-right pass over the scan buffer finds exactly the matches of numbers.CANDIDATES (digit runs of 7-42
 * digits with single separators, none starting inside a dotted quad or OID, and IBAN shapes) and drops those that
 * numbers.scan_numbers / numbers._classify reject before any validator runs: a letter right after the run, a bare run
 * without a context word in the window before it, ISO/European dates, times, dotted quads, hyphen-letter tokens,
 * single-"." decimals, over-long groups and digit counts no family accepts. Python re-runs _classify on every
 * survivor, so a survivor that should have been dropped costs time, never a finding; a candidate dropped here must be
 * one Python drops too (tests/mcpguard/detect/test_numscan.py checks both on the labelled corpus, bench traffic and
 * generated inputs).
 *
 * The buffer is untrusted: every index is checked against its length before it is read (see at()/cls_at()).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

/* Byte classes: numbers.CLASS_TABLE's alphabet ("0", "-", ".", "a", "A", ":", " "). */
enum { C_OTHER = 0, C_DIGIT, C_SEP, C_DOT, C_LOWER, C_UPPER, C_COLON, C_NONE };

static unsigned char CLS[256];

/* Configuration from numbers.py (configure()): context words, window, bare lengths, shapes, digit-count bounds. */
#define MAX_WORDS 256
#define MAX_WORD_LEN 64
#define MAX_SHAPES 32
#define MAX_SHAPE_LEN 8
#define MAX_GROUPS 64 /* a candidate has at most 42 digits, so at most 42 groups */

struct shapes {
    int n;
    int len[MAX_SHAPES];
    int g[MAX_SHAPES][MAX_SHAPE_LEN];
};

static int g_configured = 0;
static int g_nwords = 0;
static unsigned char g_words[MAX_WORDS][MAX_WORD_LEN];
static int g_wlen[MAX_WORDS];
static int g_first_start[257]; /* words sorted by first byte: those starting with byte b are [start[b], start[b+1]) */
static int g_order[MAX_WORDS];
/* Bit (x << 8 | y): some word starts with the bytes x, y (1-byte words: every y), so most window positions fail one
 * lookup. */
static unsigned char g_pair[65536 / 8];
static Py_ssize_t g_window = 0;
static unsigned long long g_bare = 0; /* bit k: a bare run of k digits needs no context word (k < 64) */
static struct shapes g_long, g_spaced;
static int g_min_digits = 0, g_max_digits = 0;

/* The class of buf[i], or C_NONE outside the buffer (so a look past either end never matches a class). */
static inline int cls_at(const unsigned char *b, Py_ssize_t n, Py_ssize_t i) {
    return (i >= 0 && i < n) ? CLS[b[i]] : C_NONE;
}

/* buf[i], or -1 outside the buffer. */
static inline int at(const unsigned char *b, Py_ssize_t n, Py_ssize_t i) {
    return (i >= 0 && i < n) ? (int)b[i] : -1;
}

static inline int is_d(const unsigned char *b, Py_ssize_t n, Py_ssize_t i) { return cls_at(b, n, i) == C_DIGIT; }

/* "[-.]" of the class alphabet: space, hyphen or dot. */
static inline int is_sd(const unsigned char *b, Py_ssize_t n, Py_ssize_t i) {
    int c = cls_at(b, n, i);
    return c == C_SEP || c == C_DOT;
}

/* CANDIDATES' "(?![0.]|[-.]0)": the run ends at i. */
static inline int run_ends(const unsigned char *b, Py_ssize_t n, Py_ssize_t i) {
    int c = cls_at(b, n, i);
    if (c == C_DIGIT || c == C_DOT) return 0;
    return !(c == C_SEP && is_d(b, n, i + 1));
}

/* Length of the digit run at i, counted up to 4 (callers only tell 1-3 from more). */
static inline Py_ssize_t digits_at(const unsigned char *b, Py_ssize_t n, Py_ssize_t i) {
    Py_ssize_t k = 0;
    while (k < 4 && is_d(b, n, i + k)) k++;
    return k;
}

/* CANDIDATES' date/dotted-quad screen at p (two digits at p, p+1): yyyy-mm-dd[ hh], dd-mm-yyyy, d.d.d.d. */
static int date_screen(const unsigned char *b, Py_ssize_t n, Py_ssize_t p) {
    /* 0000[-.]00[-.]00 (then optionally -00) at the end of the run */
    if (is_d(b, n, p + 2) && is_d(b, n, p + 3) && is_sd(b, n, p + 4) && is_d(b, n, p + 5) && is_d(b, n, p + 6) &&
        is_sd(b, n, p + 7) && is_d(b, n, p + 8) && is_d(b, n, p + 9)) {
        if (run_ends(b, n, p + 10)) return 1;
        if (cls_at(b, n, p + 10) == C_SEP && is_d(b, n, p + 11) && is_d(b, n, p + 12) && run_ends(b, n, p + 13))
            return 1;
    }
    /* 00[-.]00[-.]0000 */
    if (is_sd(b, n, p + 2) && is_d(b, n, p + 3) && is_d(b, n, p + 4) && is_sd(b, n, p + 5) && is_d(b, n, p + 6) &&
        is_d(b, n, p + 7) && is_d(b, n, p + 8) && is_d(b, n, p + 9) && run_ends(b, n, p + 10))
        return 1;
    /* 00 0? \. 0{1,3} \. 0{1,3} \. 0{1,3}: each group is its whole digit run, else the next byte is a digit */
    {
        Py_ssize_t i = is_d(b, n, p + 2) ? p + 3 : p + 2;
        int g;
        for (g = 0; g < 3; g++) {
            Py_ssize_t k;
            if (cls_at(b, n, i) != C_DOT) return 0;
            k = digits_at(b, n, i + 1);
            if (k < 1 || k > 3) return 0;
            i += 1 + k;
        }
        return run_ends(b, n, i);
    }
}

/* The CANDIDATES match starting at p (a digit not preceded by a digit), or 0. Sets *end and *iban. */
static int match_at(const unsigned char *b, Py_ssize_t n, Py_ssize_t p, Py_ssize_t *end, int *iban) {
    int prev = cls_at(b, n, p - 1);
    Py_ssize_t i;
    int count = 0;
    if (!is_d(b, n, p + 1)) return 0;
    if (prev == C_UPPER) {
        /* IBAN: (?<![0aA]AA00)(?<=AA00)((?:-?[A0]){10,34}), greedy */
        int pp = cls_at(b, n, p - 3);
        if (cls_at(b, n, p - 2) != C_UPPER || pp == C_DIGIT || pp == C_LOWER || pp == C_UPPER) return 0;
        i = p + 2;
        while (count < 34) {
            int c = cls_at(b, n, i);
            if (c == C_UPPER || c == C_DIGIT) {
                i += 1;
            } else if (c == C_SEP && (cls_at(b, n, i + 1) == C_UPPER || cls_at(b, n, i + 1) == C_DIGIT)) {
                i += 2;
            } else {
                break;
            }
            count++;
        }
        if (count < 10) return 0;
        *end = i;
        *iban = 1;
        return 1;
    }
    /* digit run: (?<![0aA:]00)(?<![0.]0\.00)(?=[-.0]{5})(?!date screen)(?:[-.]?0){5,40}, greedy */
    if (prev == C_DIGIT || prev == C_LOWER || prev == C_COLON) return 0;
    /* not inside a dotted quad / OID: right after "<digit>." whose digit follows a digit or a "." */
    if (prev == C_DOT && is_d(b, n, p - 2) && (is_d(b, n, p - 3) || cls_at(b, n, p - 3) == C_DOT)) return 0;
    for (i = p + 2; i < p + 7; i++) {
        int c = cls_at(b, n, i);
        if (c != C_DIGIT && c != C_SEP && c != C_DOT) return 0;
    }
    if (date_screen(b, n, p)) return 0;
    i = p + 2;
    while (count < 40) {
        if (is_d(b, n, i)) {
            i += 1;
        } else if (is_sd(b, n, i) && is_d(b, n, i + 1)) {
            i += 2;
        } else {
            break;
        }
        count++;
    }
    if (count < 5) return 0;
    *end = i;
    *iban = 0;
    return 1;
}

static inline int lower_byte(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

/* scan_numbers' bare-run screen: "?" (non-ASCII, folded) or a context word, lower-cased, wholly inside [lo, s). */
static int has_context(const unsigned char *b, Py_ssize_t n, Py_ssize_t s) {
    Py_ssize_t lo = s - g_window > 0 ? s - g_window : 0;
    Py_ssize_t i;
    if (s > n) s = n;
    for (i = lo; i < s; i++) {
        int c = lower_byte(b[i]);
        int k, pair;
        if (c == '?') return 1;
        pair = c << 8 | (i + 1 < s ? lower_byte(b[i + 1]) : 0);
        if (!(g_pair[pair >> 3] >> (pair & 7) & 1)) continue;
        for (k = g_first_start[c]; k < g_first_start[c + 1]; k++) {
            int w = g_order[k], L = g_wlen[w], j;
            if (L > s - i) continue;
            for (j = 1; j < L && lower_byte(b[i + j]) == g_words[w][j]; j++) {
            }
            if (j == L) return 1;
        }
    }
    return 0;
}

static inline int is_letter(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* numbers._DATE on raw = buf[s:e] (digits and single " ", "-", "." only). */
static int is_date(const unsigned char *r, Py_ssize_t L) {
#define D(k) (r[k] >= '0' && r[k] <= '9')
#define HD(k) (r[k] == '-' || r[k] == '.')
#define MONTH(k) ((r[k] == '0' && r[(k) + 1] >= '1' && r[(k) + 1] <= '9') || (r[k] == '1' && r[(k) + 1] >= '0' && r[(k) + 1] <= '2'))
#define DAY(k) ((r[k] == '0' && r[(k) + 1] >= '1' && r[(k) + 1] <= '9') || ((r[k] == '1' || r[k] == '2') && D((k) + 1)) || \
                (r[k] == '3' && (r[(k) + 1] == '0' || r[(k) + 1] == '1')))
#define CENT(k) ((r[k] == '1' && r[(k) + 1] == '9') || (r[k] == '2' && r[(k) + 1] == '0'))
    if ((L == 10 || L == 13) && CENT(0) && D(2) && D(3) && HD(4) && MONTH(5) && HD(7) && DAY(8) &&
        (L == 10 || ((r[10] == ' ' || r[10] == 'T') && D(11) && D(12))))
        return 1;
    if (L == 10 && DAY(0) && HD(2) && MONTH(3) && HD(5) && CENT(6) && D(8) && D(9)) return 1;
    return 0;
#undef D
#undef HD
#undef MONTH
#undef DAY
#undef CENT
}

/* The digit groups and separators of buf[s:e] (digits and single " ", "-", "." only). */
struct shape {
    int groups[MAX_GROUPS], ngroups, nseps, ndigits, has_space, has_dot, maxg;
};

static int shape_of(const unsigned char *b, Py_ssize_t s, Py_ssize_t e, struct shape *sh) {
    Py_ssize_t i;
    /* groups[] entries are written before they are read: only the counters need zeroing */
    sh->ngroups = sh->nseps = sh->ndigits = sh->has_space = sh->has_dot = sh->maxg = 0;
    for (i = s; i < e; i++) {
        if (b[i] >= '0' && b[i] <= '9') {
            sh->ndigits++;
            if (i == s || !(b[i - 1] >= '0' && b[i - 1] <= '9')) {
                if (sh->ngroups == MAX_GROUPS) return -1;
                sh->groups[sh->ngroups++] = 0;
            }
            if (++sh->groups[sh->ngroups - 1] > sh->maxg) sh->maxg = sh->groups[sh->ngroups - 1];
        } else {
            sh->nseps++;
            sh->has_space |= b[i] == ' ';
            sh->has_dot |= b[i] == '.';
        }
    }
    return 0;
}

static int in_shapes(const struct shapes *set, const struct shape *sh) {
    int k, g;
    for (k = 0; k < set->n; k++) {
        if (set->len[k] != sh->ngroups) continue;
        for (g = 0; g < sh->ngroups && set->g[k][g] == sh->groups[g]; g++) {
        }
        if (g == sh->ngroups) return 1;
    }
    return 0;
}

/* scan_numbers' loop: 1 when it skips the digit candidate buf[s:e] without calling _classify. */
static int loop_rejects(const unsigned char *b, Py_ssize_t n, Py_ssize_t s, Py_ssize_t e, const struct shape *sh) {
    Py_ssize_t L = e - s;
    int prev = at(b, n, s - 1), next = at(b, n, e);
    /* a letter (or "_") right after the run, except the "X" of an 18-character id with 17 digits */
    if (e < n && (CLS[b[e]] == C_LOWER || CLS[b[e]] == C_UPPER) && !((next == 'X' || next == 'x') && L >= 17)) return 1;
    /* a bare run of a length that needs a context word, with none in the window before it */
    return sh->nseps == 0 && !(L < 64 && (g_bare >> L) & 1) && b[s] != '0' && prev != '+' && prev != '(' &&
           !has_context(b, n, s);
}

enum { KEEP, REJECT, SPLIT };

/* numbers._INTL_LEFT before s: "+", or "+" and 1-3 digits and at most one " ", "-", "." ("+7 71234 5 67 89"). */
static int intl_left(const unsigned char *b, Py_ssize_t n, Py_ssize_t s) {
    Py_ssize_t i = s - 1;
    int k = 0;
    if (at(b, n, i) == '+') return 1;
    if (at(b, n, i) == ' ' || at(b, n, i) == '-' || at(b, n, i) == '.') i--;
    while (k < 3 && is_d(b, n, i)) {
        i--;
        k++;
    }
    return k >= 1 && at(b, n, i) == '+';
}

/* _classify(allow_split) up to its first validator: REJECT when it returns False before one, SPLIT when it goes
 * straight to _split_retry (only with allow_split and a space in the run), else KEEP. */
static int classify_screen(const unsigned char *b, Py_ssize_t n, Py_ssize_t s, Py_ssize_t e, int allow_split,
                           const struct shape *sh) {
    Py_ssize_t L = e - s;
    int prev = at(b, n, s - 1), next = at(b, n, e), to_split = 0;
    /* dates, a time follows, a time/port/path before, hyphenated tokens with letters, one-dot decimals */
    if (is_date(b + s, L) || (next == ':' && L <= 13)) return REJECT;
    if (prev == ':' || prev == '/') return REJECT;
    if ((next == '-' && is_letter(at(b, n, e + 1))) || (prev == '-' && is_letter(at(b, n, s - 2)))) return REJECT;
    if (sh->nseps == 1 && sh->has_dot) return REJECT;
    /* (the context-word check of a bare run needs the folded text and JSON keys: Python does it) */
    /* a multi-group shape with a group over 4 digits that no family writes: _split_retry at once */
    if (sh->ngroups > 1 && sh->maxg > 4 && !in_shapes(&g_long, sh) && !intl_left(b, n, s)) to_split = 1;
    /* more digits than any family takes: no validator runs, then _split_retry */
    else if (sh->ndigits > g_max_digits) to_split = 1;
    /* fewer digits than any family takes: no validator runs (top-level candidates have at least 7) */
    else if (sh->ndigits < g_min_digits) to_split = 1;
    if (!to_split) return KEEP;
    /* _split_retry: nothing without allow_split, a space, or for a shape written with spaces */
    if (!allow_split || !sh->has_space || in_shapes(&g_spaced, sh)) return REJECT;
    return SPLIT;
}

static int emit(PyObject *out, Py_ssize_t s, Py_ssize_t e, int kind) {
    PyObject *t[3];
    int k, err = 0;
    t[0] = PyLong_FromSsize_t(s);
    t[1] = PyLong_FromSsize_t(e);
    t[2] = PyLong_FromLong(kind);
    for (k = 0; k < 3; k++) {
        if (t[k] == NULL || PyList_Append(out, t[k]) < 0) err = 1;
        Py_XDECREF(t[k]);
    }
    return err ? -1 : 0;
}

/* _split_retry's tokens of buf[s:e] (space-separated, with a "-" or "." and 7+ bytes, or all digits of a bare length)
 * that _classify(allow_split=False) does not drop before a validator, as kind 2. */
static int emit_tokens(PyObject *out, const unsigned char *b, Py_ssize_t n, Py_ssize_t s, Py_ssize_t e) {
    Py_ssize_t ts = s, i;
    for (i = s; i <= e; i++) {
        struct shape tok;
        int grouped;
        if (i < e && b[i] != ' ') continue;
        grouped = memchr(b + ts, '-', (size_t)(i - ts)) || memchr(b + ts, '.', (size_t)(i - ts));
        /* no "-"/"." in a space-split token of a run: all digits */
        if ((grouped && i - ts >= 7) || (!grouped && i - ts < 64 && (g_bare >> (i - ts)) & 1)) {
            if (shape_of(b, ts, i, &tok) < 0 || classify_screen(b, n, ts, i, 0, &tok) == KEEP) {
                if (emit(out, ts, i, 2) < 0) return -1;
            }
        }
        ts = i + 1;
    }
    return 0;
}

PyDoc_STRVAR(scan_doc,
"scan(buf, /) -> tuple[int, list[int]]\n\n"
"The numeric candidates of ``buf`` (bytes-like, the scan buffer) that can still become findings.\n\n"
"Returns ``(count, flat)``: ``count`` is the number of ``numbers.CANDIDATES`` matches (candidate density), ``flat``\n"
"is ``[start, end, kind, ...]`` (byte offsets, half-open) in buffer order, where kind 0 is a digit run for\n"
"``_classify``, 1 an IBAN for ``_iban`` (start at its check digits) and 2 a space-separated token of a run that\n"
"``_classify`` would hand straight to ``_split_retry``, for ``_classify(..., allow_split=False)``. Left out: matches\n"
"that numbers.scan_numbers skips and that numbers._classify drops before any validator runs.\n"
"Raises RuntimeError before configure(), TypeError for a non-bytes-like argument.");

static PyObject *scan(PyObject *self, PyObject *arg) {
    Py_buffer view;
    PyObject *out;
    const unsigned char *b;
    Py_ssize_t n, i = 0, count = 0;
    (void)self;
    if (!g_configured) {
        PyErr_SetString(PyExc_RuntimeError, "_numscan.configure() was not called");
        return NULL;
    }
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    b = (const unsigned char *)view.buf;
    n = view.len;
    out = PyList_New(0);
    if (out == NULL) goto fail;
    while (i < n) {
        Py_ssize_t p = i, end = 0;
        int iban = 0;
        if (CLS[b[i]] != C_DIGIT) {
            i++;
            continue;
        }
        if (cls_at(b, n, p - 1) != C_DIGIT && match_at(b, n, p, &end, &iban)) {
            count++;
            if (iban) {
                if (emit(out, p, end, 1) < 0) goto fail;
            } else {
                struct shape sh;
                int r;
                if (shape_of(b, p, end, &sh) < 0) r = KEEP; /* cannot happen (at most 42 groups): Python decides */
                else if (loop_rejects(b, n, p, end, &sh)) r = REJECT;
                else r = classify_screen(b, n, p, end, 1, &sh);
                if (r == KEEP && emit(out, p, end, 0) < 0) goto fail;
                if (r == SPLIT && emit_tokens(out, b, n, p, end) < 0) goto fail;
            }
            i = end;
            continue;
        }
        /* no match can start inside this digit run: skip it */
        while (i < n && CLS[b[i]] == C_DIGIT) i++;
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(nN)", count, out);
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&view);
    return NULL;
}

static int cmp_first(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (g_words[x][0] != g_words[y][0]) return g_words[x][0] < g_words[y][0] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* A set of shapes (iterable of sequences of ints) into *set; -1 with an exception on bad input. */
static int parse_shapes(PyObject *obj, struct shapes *set) {
    PyObject *it = PyObject_GetIter(obj), *item;
    memset(set, 0, sizeof *set);
    if (it == NULL) return -1;
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *sh = PySequence_Fast(item, "a shape must be a sequence of ints");
        Py_ssize_t L, j;
        Py_DECREF(item);
        if (sh == NULL) goto fail;
        L = PySequence_Fast_GET_SIZE(sh);
        if (set->n == MAX_SHAPES || L < 1 || L > MAX_SHAPE_LEN) {
            Py_DECREF(sh);
            PyErr_SetString(PyExc_ValueError, "at most 32 shapes of 1-8 groups");
            goto fail;
        }
        for (j = 0; j < L; j++) {
            long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(sh, j));
            if ((v == -1 && PyErr_Occurred()) || v < 0 || v > 1000) {
                Py_DECREF(sh);
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "group lengths must be in 0..1000");
                goto fail;
            }
            set->g[set->n][j] = (int)v;
        }
        set->len[set->n++] = (int)L;
        Py_DECREF(sh);
    }
    if (PyErr_Occurred()) goto fail;
    Py_DECREF(it);
    return 0;
fail:
    Py_DECREF(it);
    return -1;
}

PyDoc_STRVAR(configure_doc,
"configure(words, window, bare_lengths, long_shapes, spaced_shapes, min_digits, max_digits, /) -> None\n\n"
"Set the screens' parameters from numbers.py (one source of truth): ``words`` the ASCII context words (sequence of\n"
"non-empty lower-case bytes, at most 256 of at most 64 bytes), ``window`` the bytes before a bare run searched for\n"
"them, ``bare_lengths`` the digit counts (< 64) a bare run needs no context word for, ``long_shapes`` the multi-group\n"
"shapes allowed a group over 4 digits and ``spaced_shapes`` those never split into tokens (iterables of at most 32\n"
"tuples of 1-8 group lengths), ``min_digits``/``max_digits`` the fewest/most digits any family accepts.\n"
"Raises TypeError/ValueError on anything else, keeping the previous configuration.");

static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *words, *bare, *long_obj, *spaced_obj, *seq = NULL, *it = NULL, *item;
    Py_ssize_t window, nw, k;
    int min_digits, max_digits;
    static unsigned char words_buf[MAX_WORDS][MAX_WORD_LEN];
    int wlen[MAX_WORDS];
    struct shapes long_set, spaced_set;
    unsigned long long bare_bits = 0;
    (void)self;
    memset(words_buf, 0, sizeof words_buf);
    memset(wlen, 0, sizeof wlen);
    if (!PyArg_ParseTuple(args, "OnOOOii", &words, &window, &bare, &long_obj, &spaced_obj, &min_digits, &max_digits))
        return NULL;
    if (window < 0 || min_digits < 0 || max_digits < 0) {
        PyErr_SetString(PyExc_ValueError, "window, min_digits and max_digits must be >= 0");
        return NULL;
    }
    seq = PySequence_Fast(words, "words must be a sequence of bytes");
    if (seq == NULL) return NULL;
    nw = PySequence_Fast_GET_SIZE(seq);
    if (nw > MAX_WORDS) {
        PyErr_SetString(PyExc_ValueError, "too many context words");
        goto fail;
    }
    for (k = 0; k < nw; k++) {
        char *s;
        Py_ssize_t L, j;
        item = PySequence_Fast_GET_ITEM(seq, k);
        if (PyBytes_AsStringAndSize(item, &s, &L) < 0) goto fail;
        if (L < 1 || L > MAX_WORD_LEN) {
            PyErr_SetString(PyExc_ValueError, "context words must be 1-64 bytes");
            goto fail;
        }
        for (j = 0; j < L; j++) {
            unsigned char c = (unsigned char)s[j];
            if (c >= 128 || (c >= 'A' && c <= 'Z')) {
                PyErr_SetString(PyExc_ValueError, "context words must be lower-case ASCII");
                goto fail;
            }
            words_buf[k][j] = c;
        }
        wlen[k] = (int)L;
    }
    Py_CLEAR(seq);
    it = PyObject_GetIter(bare);
    if (it == NULL) goto fail;
    while ((item = PyIter_Next(it)) != NULL) {
        long v = PyLong_AsLong(item);
        Py_DECREF(item);
        if (v == -1 && PyErr_Occurred()) goto fail;
        if (v < 0 || v >= 64) {
            PyErr_SetString(PyExc_ValueError, "bare lengths must be in 0..63");
            goto fail;
        }
        bare_bits |= 1ULL << v;
    }
    if (PyErr_Occurred()) goto fail;
    Py_CLEAR(it);
    if (parse_shapes(long_obj, &long_set) < 0 || parse_shapes(spaced_obj, &spaced_set) < 0) goto fail;
    /* all valid: install */
    g_nwords = (int)nw;
    memcpy(g_words, words_buf, sizeof g_words);
    memcpy(g_wlen, wlen, sizeof g_wlen);
    memset(g_pair, 0, sizeof g_pair);
    for (k = 0; k < nw; k++) {
        int y;
        g_order[k] = (int)k;
        for (y = 0; y < 256; y++) {
            int pair = g_words[k][0] << 8 | y;
            if (g_wlen[k] == 1 || g_words[k][1] == y) g_pair[pair >> 3] |= (unsigned char)(1 << (pair & 7));
        }
    }
    qsort(g_order, (size_t)nw, sizeof g_order[0], cmp_first);
    {
        int c, w = 0;
        for (c = 0; c <= 256; c++) {
            while (w < g_nwords && g_words[g_order[w]][0] < c) w++;
            g_first_start[c] = w;
        }
    }
    g_window = window;
    g_bare = bare_bits;
    g_long = long_set;
    g_spaced = spaced_set;
    g_min_digits = min_digits;
    g_max_digits = max_digits;
    g_configured = 1;
    Py_RETURN_NONE;
fail:
    Py_XDECREF(seq);
    Py_XDECREF(it);
    return NULL;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_O, scan_doc},
    {"configure", configure, METH_VARARGS, configure_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_numscan",
    "The numeric candidate scan of mcpguard.detect.pii.numbers in C (see numbers.py; pure-Python fallback there).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__numscan(void) {
    int c;
    for (c = 0; c < 256; c++) CLS[c] = C_OTHER;
    for (c = '0'; c <= '9'; c++) CLS[c] = C_DIGIT;
    CLS[' '] = CLS['-'] = C_SEP;
    CLS['.'] = C_DOT;
    for (c = 'a'; c <= 'z'; c++) CLS[c] = C_LOWER;
    CLS['_'] = C_LOWER;
    for (c = 'A'; c <= 'Z'; c++) CLS[c] = C_UPPER;
    CLS[':'] = CLS['/'] = C_COLON;
    return PyModule_Create(&module);
}
