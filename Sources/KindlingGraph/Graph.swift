// The public face of the visualizer: `Graph` turns a tensor or a `Value` into
// DOT text, and `svg()` turns that into a picture.

import Foundation
import Kindling

/// A drawing of an autograd graph: the DOT text describing it, ready to be
/// rendered to SVG.
///
/// Every operation recorded while computing a tensor is a node; arrows run
/// from each input to the operation that read it, so the picture reads like
/// the forward pass, and `backward()` walks it against the arrows.
///
///     let model = Sequential(Flatten(), Linear(784, 128), ReLU(), Linear(128, 10))
///     let loss = crossEntropy(model(images), labels)
///     loss.backward()
///     let graph = Graph(of: loss, module: model)
///     print(graph.dot)                         // the text, for reading or diffing
///     try graph.svg().write(to: URL(fileURLWithPath: "loss.svg"))
///
/// What you see:
/// - **operations** (grey) with their name and output shape, grouped in a
///   dashed box per module call (`1 · Linear`);
/// - **parameters** (light blue) by their dotted name (`1.weight`), their
///   shape, and, after `backward()`, the L2 norm of their gradient;
/// - **inputs** (light yellow): data and constants, leaves that are not parameters;
/// - the **output** (green), the tensor you drew from;
/// - anything holding NaN or ±Inf, in its value or gradient, in **red**;
/// - the tensors named in `GraphOptions.highlight` (e.g. a gradient
///   diagnosis's `wrongNodes`) in a **stronger red**, with a legend line.
///
/// The DOT text is deterministic: node ids (`n0` is the output, then `n1`,
/// `n2`, … breadth-first towards the inputs) depend only on the graph's
/// structure, so the same computation always gives byte-identical text. In
/// the SVG each node is a `<g>` element with that `id` and a `class` naming
/// its kind (`op`, `parameter`, `input`, `output`, `module`, `nonfinite`),
/// and a tooltip with the details.
public struct Graph: Sendable {
    /// The graph in Graphviz's DOT language.
    public let dot: String
    /// The ids of the drawn graph nodes (not the legend or the "more nodes"
    /// placeholder), in the order they appear in `dot`.
    public let nodeIDs: [String]
    /// How many nodes the whole graph has (after collapsing modules, if asked).
    public let nodeCount: Int
    /// How many of those were left out to respect `GraphOptions.maxNodes`.
    public let elidedCount: Int

    init(dot: String, nodeIDs: [String], nodeCount: Int, elidedCount: Int) {
        self.dot = dot
        self.nodeIDs = nodeIDs
        self.nodeCount = nodeCount
        self.elidedCount = elidedCount
    }

    /// Draws the graph that produced `tensor`.
    ///
    /// - Parameters:
    ///   - tensor: usually a loss. Draw it after `backward()` to see gradients:
    ///     the graph survives `backward()` (only the tensors saved for it are freed).
    ///   - module: the model, if any. Its parameters are then named
    ///     (`1.weight`) and module clusters are labelled with their dotted
    ///     names; without it leaves are "input" and clusters show type names.
    ///   - options: size cap, collapsing, what to show; see `GraphOptions`.
    public init(of tensor: Tensor, module: Module? = nil, options: GraphOptions = .init()) {
        var builder = TensorGraphBuilder(options: options, module: module)
        self = builder.build(root: tensor)
    }

    /// Draws the graph that produced the scalar `value`, micrograd-style:
    /// each value a box `label | data | grad`, each operation an oval
    /// between its inputs and its result.
    public init(of value: Value, options: GraphOptions = .init()) {
        var builder = ValueGraphBuilder(options: options)
        self = builder.build(root: value)
    }

    /// The drawing as an SVG document (UTF-8), laid out by Graphviz in this
    /// process. Throws a `GraphvizError` if Graphviz rejects the graph.
    public func svg() throws -> Data {
        try Graphviz.renderSVG(dot: dot)
    }

    /// Writes the drawing to `path`: the DOT text if the path ends in `.dot`
    /// or `.gv`, else SVG.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let data: Data
        switch url.pathExtension.lowercased() {
        case "dot", "gv": data = Data(dot.utf8)
        default: data = try svg()
        }
        try data.write(to: url)
    }
}

extension Tensor {
    /// Draws the autograd graph that produced this tensor into a file: SVG,
    /// or DOT text if `path` ends in `.dot` or `.gv`.
    ///
    ///     loss.backward()
    ///     try loss.renderGraph(to: "loss.svg", module: model)
    ///
    /// See `Graph` for what the drawing shows and `GraphOptions` for choices.
    public func renderGraph(to path: String, module: Module? = nil, options: GraphOptions = .init()) throws {
        try Graph(of: self, module: module, options: options).write(to: path)
    }
}

extension Value {
    /// Draws the graph that produced this value into a file (SVG, or DOT
    /// text if `path` ends in `.dot` or `.gv`), as micrograd's `draw_dot` does.
    ///
    ///     let L = (a * b + c).tanh()
    ///     L.backward()
    ///     try L.renderGraph(to: "L.svg")
    public func renderGraph(to path: String, options: GraphOptions = .init()) throws {
        try Graph(of: self, options: options).write(to: path)
    }
}
