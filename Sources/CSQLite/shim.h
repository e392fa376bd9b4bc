#ifndef TRIGGER_EMAIL_CSQLITE_SHIM_H
#define TRIGGER_EMAIL_CSQLITE_SHIM_H

#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro that casts -1 to a function pointer, which Swift cannot import.
// Binding text with it makes SQLite copy the bytes before the Swift buffer goes away.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

#endif
