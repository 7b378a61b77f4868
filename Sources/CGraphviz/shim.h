#include <graphviz/gvc.h>
#include <graphviz/cgraph.h>

// Swift 6 cannot read C global variables such as `Agdirected` (they are
// mutable shared state); these functions hand out their values.
static inline Agdesc_t kindling_agdirected(void) { return Agdirected; }
