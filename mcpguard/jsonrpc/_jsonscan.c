/*
 * mcpguard.jsonrpc._jsonscan — one C pass that counts the name separators of a JSON text.
 *
 * The strict parser (mcpguard.jsonrpc.framing.parse) refuses duplicate object keys, which orjson silently collapses.
 * In a JSON text that has already parsed (RFC 8259), every ':' outside a string is the name separator of exactly one
 * object member, so the text has a duplicate key exactly when this count exceeds the number of members in the parsed
 * objects. Inside a string, '"' ends it unless escaped and '\\' escapes the next byte; UTF-8 continuation and lead
 * bytes are never ASCII, so a byte-wise scan is exact.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

PyDoc_STRVAR(member_colons_doc,
"member_colons(text, /) -> int\n\n"
"The number of ':' bytes outside JSON strings in text (bytes-like, UTF-8 JSON that already parsed): the number of\n"
"object members written in it (RFC 8259 section 4). O(len(text)), one pass; the result is meaningless for text\n"
"that is not valid JSON. Raises TypeError when text does not support the buffer protocol.");

static PyObject *member_colons(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *p = (const unsigned char *)view.buf;
    const unsigned char *end = p + view.len;
    Py_ssize_t colons = 0;
    Py_BEGIN_ALLOW_THREADS
    while (p < end) {
        /* Outside a string: the next '"' or ':' (structural bytes, digits and whitespace are skipped). */
        unsigned char c = *p++;
        if (c == ':') {
            colons++;
        } else if (c == '"') {
            /* Inside a string: memchr to the next '"', then to any '\\' before it. Each backslash skips itself and
               the byte it escapes; the quote found is kept unless that byte was the quote, so the scan is linear. */
            const unsigned char *q = memchr(p, '"', (size_t)(end - p));
            for (;;) {
                if (q == NULL) {
                    p = end;
                    break;
                }
                const unsigned char *b = memchr(p, '\\', (size_t)(q - p));
                if (b == NULL) {
                    p = q + 1;  /* past the closing quote */
                    break;
                }
                p = b + 2;
                if (p >= end) {
                    p = end;
                    break;
                }
                if (p > q)  /* the escaped byte was the quote: find the next one */
                    q = memchr(p, '"', (size_t)(end - p));
            }
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(colons);
}

static PyMethodDef methods[] = {
    {"member_colons", member_colons, METH_O, member_colons_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "mcpguard.jsonrpc._jsonscan",
    "Counting JSON object members in the raw text for the duplicate-key check (see mcpguard.jsonrpc.framing).",
    -1,
    methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__jsonscan(void)
{
    return PyModule_Create(&module);
}
