// Used only when libpthreadpool-dev is not installed: xnnpack.h includes <pthreadpool.h> just
// for this opaque handle type, and the benchmarks always pass a null pool (single thread).
#pragma once
typedef struct pthreadpool* pthreadpool_t;
