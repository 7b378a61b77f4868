// What a drawing shows and how it is laid out.

/// The direction in which the drawing flows, from inputs to the output.
public enum RankDirection: String, Sendable, CaseIterable {
    /// Inputs at the top, the output at the bottom. Suits deep networks.
    case topToBottom = "TB"
    /// Inputs on the left, the output on the right, as in micrograd's drawings.
    case leftToRight = "LR"
    /// Inputs at the bottom, the output at the top.
    case bottomToTop = "BT"
    /// Inputs on the right, the output on the left.
    case rightToLeft = "RL"
}

/// Choices for drawing an autograd graph with `Graph`.
///
/// The defaults draw a readable picture of a small model and stay fast on
/// big ones: at most 400 nodes (the ones nearest the output), cheap layout
/// settings, a legend.
///
///     var options = GraphOptions()
///     options.collapseModules = true    // one box per layer
///     options.maxNodes = 100
///     let graph = Graph(of: loss, module: model, options: options)
public struct GraphOptions: Sendable {
    /// The most nodes to draw. The walk goes breadth-first from the output,
    /// so the nodes kept are the ones closest to it; the rest are replaced by
    /// a single "N more nodes" placeholder. Layout time grows quickly with
    /// size (a dense 1,000-node graph can take seconds), so keep this in the
    /// hundreds. For `Value` graphs it counts values; each computed value's
    /// operation oval comes with it.
    public var maxNodes: Int

    /// Draw each module call as a single box (listing its parameters and
    /// their gradients) instead of every operation inside it — the overview
    /// TensorBoard gives by collapsing name scopes.
    public var collapseModules: Bool

    /// With `collapseModules`, how deep in the module tree the boxes are:
    /// 1 (the default) collapses the children of the outermost module, so a
    /// `Sequential` shows one box per layer; 0 collapses the outermost call
    /// itself. If the graph has no module calls that deep, the deepest level
    /// present is used.
    public var collapseDepth: Int

    /// Show, for each tensor that requires a gradient, whether `backward()`
    /// left one in `grad` and its L2 norm (for `Value`s: the `grad` field).
    public var showGradients: Bool

    /// Scan values and gradients for NaN and ±Inf and draw offending nodes
    /// red. Costs one pass over each drawn tensor's elements.
    public var highlightNonFinite: Bool

    /// Add a legend node explaining the colours.
    public var showLegend: Bool

    /// Tensors to draw red, e.g. the op whose backward rule is wrong and the
    /// tensors whose gradients are wrong because of it (`diagnoseGradients`
    /// gives them as `GradientDiagnosis.wrongNodes`). A collapsed module box
    /// is red when it holds one of them.
    public var highlight: Set<ObjectIdentifier>

    /// The legend's words for the red of `highlight`.
    public var highlightMeaning: String

    /// An extra line of text under some nodes, e.g. "⚠ wrong backward rule".
    public var notes: [ObjectIdentifier: String]

    /// The flow of the drawing; `nil` picks top-to-bottom for tensors and
    /// left-to-right for `Value`s.
    public var rankdir: RankDirection?

    /// The graph's name (it becomes the SVG document's `<title>`).
    public var name: String

    /// An optional caption drawn above the graph.
    public var title: String?

    /// Use the cheap layout settings `nslimit=1, nslimit1=1, mclimit=0.1`,
    /// which cut the layout time of large graphs several-fold at the price of
    /// a few more edge crossings.
    public var fastLayout: Bool

    /// Extra graph attributes written into the DOT text (after the defaults,
    /// so they win), e.g. `["splines": "ortho"]`. Written in key order.
    public var graphAttributes: [String: String]

    /// Options with the given values; every argument has a sensible default.
    public init(maxNodes: Int = 400, collapseModules: Bool = false, collapseDepth: Int = 1,
                showGradients: Bool = true, highlightNonFinite: Bool = true, showLegend: Bool = true,
                rankdir: RankDirection? = nil, name: String = "kindling", title: String? = nil,
                fastLayout: Bool = true, graphAttributes: [String: String] = [:],
                highlight: Set<ObjectIdentifier> = [], highlightMeaning: String = "highlighted",
                notes: [ObjectIdentifier: String] = [:]) {
        self.maxNodes = maxNodes
        self.collapseModules = collapseModules
        self.collapseDepth = collapseDepth
        self.showGradients = showGradients
        self.highlightNonFinite = highlightNonFinite
        self.showLegend = showLegend
        self.rankdir = rankdir
        self.name = name
        self.title = title
        self.fastLayout = fastLayout
        self.graphAttributes = graphAttributes
        self.highlight = highlight
        self.highlightMeaning = highlightMeaning
        self.notes = notes
    }
}

/// The colours of a drawing, one per kind of node. Borrowed from torchviz:
/// light-blue leaves that collect gradients, grey operations, a green output.
public enum GraphPalette {
    /// Data and constants: leaves that are not parameters.
    public static let input = "lightyellow"
    /// Parameters of the module (trainable leaves); also `Value` leaves.
    public static let parameter = "lightblue"
    /// Recorded operations.
    public static let op = "lightgray"
    /// The tensor (or `Value`) the graph was drawn from, e.g. the loss.
    public static let output = "darkolivegreen1"
    /// A whole module call, drawn as one box by `collapseModules`.
    public static let module = "thistle"
    /// Computed `Value`s (micrograd view).
    public static let value = "white"
    /// Fill of any node holding NaN or ±Inf, in its value or its gradient.
    public static let nonFinite = "#ff9999"
    /// Border of any node holding NaN or ±Inf.
    public static let nonFiniteBorder = "red"
    /// Fill of a node named in `GraphOptions.highlight`.
    public static let highlight = "#ff6f6f"
    /// Border of a node named in `GraphOptions.highlight`.
    public static let highlightBorder = "#b00000"
    /// Fill of the "N more nodes" placeholder.
    public static let elided = "white"
}
