#include <graphviz/gvc.h>
#include <graphviz/cgraph.h>

// Swift 6 cannot read C global variables such as `Agdirected` (they are
// mutable shared state); these functions hand out their values.
static inline Agdesc_t kindling_agdirected(void) { return Agdirected; }

// Exported by libcgraph (2.42/2.43) but missing from cgraph.h: flushes the
// DOT scanner's buffer. `agmemread` stops after the first graph and leaves any
// text after it in a global scanner buffer, where the *next* `agmemread` would
// find it (reading "digraph A {} digraph B {}" and then "digraph C {}" yields
// B, not C). Graphviz calls this itself only after a syntax error.
extern void aglexbad(void);

/// Forget any DOT text left over from an earlier `agmemread`. Call it (under
/// the Graphviz lock) before every parse.
static inline void kindling_flush_dot_scanner(void) { aglexbad(); }
