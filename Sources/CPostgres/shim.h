#ifndef TRIGGER_EMAIL_CPOSTGRES_SHIM_H
#define TRIGGER_EMAIL_CPOSTGRES_SHIM_H

#include <libpq-fe.h>

#endif
