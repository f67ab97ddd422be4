// Open MPI's C interface as Debian installs it (libopenmpi-dev, found through pkg-config "ompi").
//
// Open MPI defines its handles as macros that cast the address of a global symbol (MPI_COMM_WORLD is
// `(MPI_Comm)&ompi_mpi_comm_world`), which Swift cannot import; these functions hand them to Swift. Plain integer
// macros (MPI_SUCCESS, MPI_ANY_SOURCE, MPI_MAX_ERROR_STRING) and the MPI_THREAD_* constants import as they are.
#ifndef SEESAW_CMPI_SHIM_H
#define SEESAW_CMPI_SHIM_H

#include <mpi.h>

// Communicators.
static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm cmpi_comm_null(void) { return MPI_COMM_NULL; }

// Datatypes.
static inline MPI_Datatype cmpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_int(void) { return MPI_INT; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }

// Reductions and error handlers.
static inline MPI_Op cmpi_sum(void) { return MPI_SUM; }
static inline MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }

// Requests, matched messages, statuses and the in-place buffer marker.
static inline MPI_Request cmpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Message cmpi_message_null(void) { return MPI_MESSAGE_NULL; }
static inline MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }

// Wildcards and limits, as functions too so that Swift sees one spelling for every constant.
static inline int cmpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline int cmpi_any_tag(void) { return MPI_ANY_TAG; }
static inline int cmpi_undefined(void) { return MPI_UNDEFINED; }
static inline int cmpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
