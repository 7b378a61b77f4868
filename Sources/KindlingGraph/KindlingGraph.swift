// KindlingGraph: draws autograd graphs (DOT → SVG through the Graphviz C library)
// and writes training reports.
import CGraphviz
import Kindling
