// The one doorway to Open MPI. Only S2SDistributed/MPICommunicator.swift imports it.
#ifndef S2S_CMPI_SHIM_H
#define S2S_CMPI_SHIM_H
#include <mpi.h>
// MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE …) are macros, which Swift
// does not import; these functions name them.
static inline MPI_Comm s2s_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype s2s_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype s2s_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype s2s_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Op s2s_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op s2s_mpi_max(void) { return MPI_MAX; }
static inline void *s2s_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int s2s_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int s2s_mpi_success(void) { return MPI_SUCCESS; }
#endif
