/* The FIT data-message walk in C: the one loop of the fast decoder that numpy cannot do.
 *
 * Between two definition messages every data message's size follows from its header byte,
 * so finding the messages is a pointer chase through a header-byte -> size table.  In Python
 * that chase costs about 0.33 us per message, which is most of the decode of a file whose
 * records interleave with other messages; here it costs a few ns.
 *
 * Optional: setup.py builds it where a compiler is present, and walk.py walks in Python
 * (the same result, tested message for message) where it is absent.  The input is untrusted
 * file bytes, so every read is bounds-checked against the buffer lengths.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define TABLE 256

/* scan(buf, pos, end, table, out_pos, out_def, count) -> (pos, count, records, flagged)
 *
 * buf:      the file bytes.
 * pos, end: where to start, and the end of this FIT file's data (a message may start only before
 *           min(end, len(buf)) and must fit inside buf).
 * table:    int64[256], one entry per header byte: bits 0-23 the message size (header byte
 *           included; 0 stops the walk: definition messages, local numbers without a readable
 *           definition), bits 24-31 a flag (1 = a record message, 2 = a message the caller reads
 *           before the next definition, e.g. developer field descriptions; both counted), bits
 *           32-63 the definition index written for the message.
 * out_pos:  int64[cap], out_def: int32[cap]; messages are written from ``count`` on.
 *
 * Stops before a header whose size is 0, before a message that would run past the buffer, at
 * ``end``, or when the output is full (count == cap: the caller grows it and calls again).
 * Returns the position reached, the new count, and how many records and flagged messages it met.
 */
static PyObject *
fitwalk_scan(PyObject *self, PyObject *args)
{
    Py_buffer buf, table, out_pos, out_def;
    Py_ssize_t pos, end, count;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*nny*w*w*n", &buf, &pos, &end, &table, &out_pos, &out_def, &count))
        return NULL;

    if (table.len != TABLE * (Py_ssize_t)sizeof(int64_t)) {
        PyErr_SetString(PyExc_ValueError, "scan: the table must hold 256 int64 entries");
        goto done;
    }
    if (((uintptr_t)out_pos.buf % sizeof(int64_t)) || ((uintptr_t)out_def.buf % sizeof(int32_t))
        || ((uintptr_t)table.buf % sizeof(int64_t))) {
        PyErr_SetString(PyExc_ValueError, "scan: arrays must be aligned");
        goto done;
    }
    {
        const Py_ssize_t cap_pos = out_pos.len / (Py_ssize_t)sizeof(int64_t);
        const Py_ssize_t cap_def = out_def.len / (Py_ssize_t)sizeof(int32_t);
        const Py_ssize_t cap = cap_pos < cap_def ? cap_pos : cap_def;
        const Py_ssize_t n = buf.len;
        const Py_ssize_t lim = end < n ? end : n;
        const uint8_t *b = (const uint8_t *)buf.buf;
        const int64_t *entry_of = (const int64_t *)table.buf;
        int64_t *op = (int64_t *)out_pos.buf;
        int32_t *od = (int32_t *)out_def.buf;
        Py_ssize_t records = 0, flagged = 0;

        if (pos < 0 || count < 0 || count > cap) {
            PyErr_SetString(PyExc_ValueError, "scan: position or count out of range");
            goto done;
        }
        while (pos < lim && count < cap) {
            const int64_t e = entry_of[b[pos]];
            const Py_ssize_t s = (Py_ssize_t)(e & 0xFFFFFF);
            const int flag = (int)((e >> 24) & 0xFF);
            if (s == 0 || s > n - pos)
                break;
            op[count] = pos;
            od[count] = (int32_t)(e >> 32);
            count++;
            records += flag == 1;
            flagged += flag == 2;
            pos += s;
        }
        result = Py_BuildValue("nnnn", pos, count, records, flagged);
    }
done:
    PyBuffer_Release(&buf);
    PyBuffer_Release(&table);
    PyBuffer_Release(&out_pos);
    PyBuffer_Release(&out_def);
    return result;
}

static PyMethodDef fitwalk_methods[] = {
    {"scan", fitwalk_scan, METH_VARARGS, "Walk FIT data messages through a header-byte size table (see _fitwalk.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fitwalk_module = {
    PyModuleDef_HEAD_INIT, "_fitwalk", "The FIT data-message walk of gaitrisk's fast decoder, in C.", -1,
    fitwalk_methods,
};

PyMODINIT_FUNC
PyInit__fitwalk(void)
{
    return PyModule_Create(&fitwalk_module);
}
