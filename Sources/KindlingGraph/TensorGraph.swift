// Drawing a tensor's autograd graph (lesson 6), the way torchviz does for
// PyTorch — plus module clusters, gradient norms and NaN/Inf highlighting.
//
// The drawing is built in four passes:
//
// 1. Walk. Breadth-first from the output through `node.inputs`, with an
//    explicit queue (never recursion: a 50,000-op chain would overflow the
//    call stack). Each tensor gets an index in the order it is discovered —
//    the same graph always gives the same indices, hence the same DOT text.
// 2. Units. Each tensor becomes one drawn node, or, when module calls are
//    collapsed, is folded into its module call's box.
// 3. Cap. Only the first `maxNodes` units (the ones nearest the output) are
//    drawn; everything further back becomes one "N more nodes" placeholder.
// 4. Emit. Nodes are written inside nested `subgraph cluster_…` blocks, one
//    per module call, then all edges, from each input to the op that read it.

import Kindling

/// Everything `TensorGraphBuilder` needs to know about one drawn node.
private enum UnitKind {
    /// A single tensor: a leaf or the result of one op.
    case tensor(Int)
    /// A collapsed module call and the tensors folded into it.
    case box(ModuleScope, members: [Int])
}

struct TensorGraphBuilder {
    let options: GraphOptions
    let module: Module?

    // Pass 1: the walk.
    private var tensors: [Tensor] = []
    private var inputs: [[Int]] = []      // per tensor: indices of its op's inputs, in order
    private var consumers: [[Int]] = []   // per tensor: indices of the ops that read it

    // Names from the root module.
    private var parameterNames: [ObjectIdentifier: String] = [:]
    private var parameterOrder: [ObjectIdentifier: Int] = [:]   // declaration order, for listing
    private var moduleNames: [ObjectIdentifier: String] = [:]

    // Pass 2: units.
    private var units: [UnitKind] = []
    private var unitOf: [Int] = []        // per tensor: its unit

    init(options: GraphOptions, module: Module?) {
        self.options = options
        self.module = module
        if let module {
            for (k, (name, p)) in module.namedParameters().enumerated() {
                parameterNames[ObjectIdentifier(p)] = name
                parameterOrder[ObjectIdentifier(p)] = k
            }
            for (name, m) in module.namedModules() { moduleNames[ObjectIdentifier(m)] = name }
        }
    }

    /// Builds the drawing of `root`'s graph.
    mutating func build(root: Tensor) -> Graph {
        walk(from: root)
        makeUnits()
        return emit()
    }

    // MARK: Pass 1 — breadth-first walk

    private mutating func walk(from root: Tensor) {
        var index: [ObjectIdentifier: Int] = [ObjectIdentifier(root): 0]
        tensors = [root]
        consumers = [[]]
        var head = 0
        while head < tensors.count {
            let tensor = tensors[head]
            var mine: [Int] = []
            for input in tensor.node?.inputs ?? [] {
                let key = ObjectIdentifier(input)
                let i: Int
                if let known = index[key] {
                    i = known
                } else {
                    i = tensors.count
                    index[key] = i
                    tensors.append(input)
                    consumers.append([])
                }
                mine.append(i)
                consumers[i].append(head)
            }
            inputs.append(mine)
            head += 1
        }
    }

    // MARK: Pass 2 — units

    /// The index in `path` where depth 0 starts: the root module's call if it
    /// is on the path, else the outermost call.
    private func baseDepth(of path: [ModuleScope]) -> Int {
        if let module, let i = path.firstIndex(where: { $0.module == ObjectIdentifier(module) }) { return i }
        return 0
    }

    /// Whether a leaf counts as a parameter: named by the module, or — when
    /// no module was given — any leaf that requires a gradient.
    private func isParameterLike(_ i: Int) -> Bool {
        let t = tensors[i]
        guard t.isLeaf else { return false }
        if module != nil { return parameterNames[ObjectIdentifier(t)] != nil }
        return t.requiresGrad
    }

    private mutating func makeUnits() {
        let n = tensors.count
        // Which module call (if any) each op tensor is folded into.
        var boxScope = [ModuleScope?](repeating: nil, count: n)
        if options.collapseModules {
            let paths = tensors.map { $0.node?.scope?.path ?? [] }
            var deepest = -1
            for path in paths where !path.isEmpty {
                deepest = max(deepest, path.count - 1 - baseDepth(of: path))
            }
            let depth = min(max(options.collapseDepth, 0), deepest)
            if depth >= 0 {
                for i in 0..<n where !paths[i].isEmpty {
                    let path = paths[i], base = baseDepth(of: path)
                    if path.count - 1 - base >= depth { boxScope[i] = path[base + depth] }
                }
                // Fold a parameter into the box when every op reading it is in that box.
                for i in 0..<n where tensors[i].isLeaf && isParameterLike(i) && !consumers[i].isEmpty {
                    guard let first = boxScope[consumers[i][0]] else { continue }
                    if consumers[i].allSatisfy({ boxScope[$0] === first }) { boxScope[i] = first }
                }
            }
        }
        // Number units in order of their first tensor, so the output's unit is 0.
        unitOf = [Int](repeating: 0, count: n)
        var boxUnit: [ObjectIdentifier: Int] = [:]
        var members: [[Int]] = []
        var scopes: [ModuleScope?] = []
        for i in 0..<n {
            if let scope = boxScope[i] {
                let key = ObjectIdentifier(scope)
                if let u = boxUnit[key] {
                    unitOf[i] = u
                    members[u].append(i)
                    continue
                }
                boxUnit[key] = members.count
            }
            unitOf[i] = members.count
            members.append([i])
            scopes.append(boxScope[i])
        }
        units = zip(members, scopes).map { m, scope in
            if let scope { return .box(scope, members: m) }
            return .tensor(m[0])
        }
    }

    // MARK: Pass 3 and 4 — cap and emit

    private func id(_ unit: Int) -> String { "n\(unit)" }

    /// The module calls a unit is drawn inside, outermost first.
    private func containerPath(_ unit: Int) -> [ModuleScope] {
        switch units[unit] {
        case .box(let scope, _):
            return Array(scope.path.dropLast())
        case .tensor(let i):
            let t = tensors[i]
            if let node = t.node { return node.scope?.path ?? [] }
            guard isParameterLike(i), !consumers[i].isEmpty else { return [] }
            // A parameter sits in the innermost call shared by all its readers.
            var common = containerPath(unitOfOp: consumers[i][0])
            for c in consumers[i].dropFirst() {
                let other = containerPath(unitOfOp: c)
                var k = 0
                while k < common.count, k < other.count, common[k] === other[k] { k += 1 }
                common.removeLast(common.count - k)
            }
            return common
        }
    }

    /// The container path of the unit holding op tensor `i`, as seen from outside it.
    private func containerPath(unitOfOp i: Int) -> [ModuleScope] {
        let u = unitOf[i]
        if case .box(let scope, _) = units[u] { return scope.path }
        return tensors[i].node?.scope?.path ?? []
    }

    private mutating func emit() -> Graph {
        let kept = min(units.count, max(options.maxNodes, 1))
        let elided = units.count - kept

        // Clusters: one per module call holding a kept unit, nested like the calls.
        var clusterIndex: [ObjectIdentifier: Int] = [:]
        var clusterScopes: [ModuleScope] = []
        var clusterUnits: [[Int]] = []
        var clusterChildren: [[Int]] = []
        var topUnits: [Int] = []
        var topClusters: [Int] = []
        for u in 0..<kept {
            let path = containerPath(u)
            var parent: Int? = nil
            for scope in path {
                let key = ObjectIdentifier(scope)
                if let c = clusterIndex[key] {
                    parent = c
                    continue
                }
                let c = clusterScopes.count
                clusterIndex[key] = c
                clusterScopes.append(scope)
                clusterUnits.append([])
                clusterChildren.append([])
                if let parent { clusterChildren[parent].append(c) } else { topClusters.append(c) }
                parent = c
            }
            if let parent { clusterUnits[parent].append(u) } else { topUnits.append(u) }
        }

        var nodeIDs: [String] = []
        var text = DOT.header(options: options, rankdir: options.rankdir ?? .topToBottom,
                              nodeDefaults: "shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, color=\"#555555\", margin=\"0.1,0.04\"")
        text += "  // \(tensors.count) tensors, \(units.count) nodes: \(kept) drawn, \(elided) elided\n"

        // Nodes, cluster by cluster (iteratively: an explicit stack of clusters to open and close).
        for u in topUnits { text += "  " + nodeStatement(u) + "\n"; nodeIDs.append(id(u)) }
        enum Step { case open(Int, Int), close(Int) }
        var stack: [Step] = topClusters.reversed().map { .open($0, 1) }
        while let step = stack.popLast() {
            switch step {
            case .close(let depth):
                text += String(repeating: "  ", count: depth) + "}\n"
            case .open(let c, let depth):
                let pad = String(repeating: "  ", count: depth)
                text += pad + "subgraph cluster_\(c) {\n"
                text += pad + "  " + clusterAttributes(clusterScopes[c], index: c) + "\n"
                for u in clusterUnits[c] { text += pad + "  " + nodeStatement(u) + "\n"; nodeIDs.append(id(u)) }
                stack.append(.close(depth))
                stack.append(contentsOf: clusterChildren[c].reversed().map { .open($0, depth + 1) })
            }
        }

        if elided > 0 {
            let label = "⋯ \(elided) more nodes<br/><font point-size=\"9\">not drawn (maxNodes = \(kept))</font>"
            text += "  more [id=\"more\", class=\"elided\", style=\"dashed,filled\", fillcolor=\"\(GraphPalette.elided)\", "
                + "tooltip=\(DOT.quoted("\(elided) of \(units.count) nodes not drawn; raise GraphOptions.maxNodes to see them")), label=<\(label)>]\n"
        }
        if options.showLegend {
            var entries: [(String, String)] = [
                (GraphPalette.input, "input (data, constant)"),
                (GraphPalette.parameter, module == nil ? "leaf that requires grad" : "parameter"),
                (GraphPalette.op, "operation"),
                (GraphPalette.output, "output"),
            ]
            if options.collapseModules { entries.append((GraphPalette.module, "module call (collapsed)")) }
            if options.highlightNonFinite { entries.append((GraphPalette.nonFinite, "holds NaN or Inf")) }
            if !options.highlight.isEmpty { entries.append((GraphPalette.highlight, options.highlightMeaning)) }
            text += DOT.legend(entries)
        }

        // Edges, from each input to the op that read it.
        var seen = Set<Int>()  // (from, to) pairs already drawn, when deduplicating
        let dedupe = options.collapseModules
        for t in 0..<tensors.count {
            let to = unitOf[t]
            guard to < kept else { continue }
            for i in inputs[t] {
                let from = unitOf[i]
                if from == to { continue }
                if from < kept {
                    if dedupe && !seen.insert(from &* units.count &+ to).inserted { continue }
                    text += "  \(id(from)) -> \(id(to))\n"
                } else if seen.insert(-1 - to).inserted {
                    text += "  more -> \(id(to)) [style=dashed]\n"
                }
            }
        }
        text += "}\n"
        return Graph(dot: text, nodeIDs: nodeIDs, nodeCount: units.count, elidedCount: elided)
    }

    // MARK: Labels

    private func clusterLabel(_ scope: ModuleScope) -> String {
        if module != nil, let name = moduleNames[scope.module], !name.isEmpty {
            return name + " · " + scope.typeName
        }
        return scope.typeName
    }

    private func clusterAttributes(_ scope: ModuleScope, index c: Int) -> String {
        let label = clusterLabel(scope)
        let call = scope.path.map(clusterLabel).joined(separator: " › ")
        return "graph [id=\"cluster_\(c)\", class=\"module\", label=<<b>\(DOT.html(label))</b>>, tooltip=\(DOT.quoted("module call: " + call)), "
            + "style=\"rounded,dashed\", color=\"#888888\", fontsize=10, labeljust=l]"
    }

    /// The text lines, fill colour, CSS class and problem of one tensor node.
    private func nodeStatement(_ u: Int) -> String {
        switch units[u] {
        case .tensor(let i): return tensorStatement(unit: u, tensor: i)
        case .box(let scope, let members): return boxStatement(unit: u, scope: scope, members: members)
        }
    }

    /// Ops that combine inputs element by element, broadcasting their shapes.
    static let elementwiseOps: Set<String> = ["add", "sub", "mul", "div", "pow", "where", "maximum", "minimum"]

    private func gradientLine(_ t: Tensor) -> (html: String, plain: String, scan: NumberScan?) {
        guard let g = t.grad else {
            return ("<i>no grad yet</i>", "no grad yet (run backward())", nil)
        }
        let scan = NumberScan(g.toArray())
        let text = "grad ‖·‖₂ = " + DOT.number(scan.norm)
        return (DOT.html(text), text, scan)
    }

    private func tensorStatement(unit u: Int, tensor i: Int) -> String {
        let t = tensors[i]
        let isOutput = i == 0
        var lines: [String] = []     // HTML
        var tips: [String] = []      // plain text
        let kind: String
        var fill: String
        if let node = t.node {
            kind = "op"
            fill = GraphPalette.op
            lines.append("<b>" + DOT.html(node.op) + "</b>")
            lines.append(DOT.html(DOT.shape(t.shape)))
            tips.append("op \(node.op) → \(DOT.shape(t.shape))")
            // Broadcasting is where shape bugs hide: say when an elementwise op stretched an input.
            if node.inputs.count >= 2, Self.elementwiseOps.contains(node.op),
               node.inputs.contains(where: { $0.shape != t.shape }) {
                let shapes = node.inputs.map { DOT.shape($0.shape) }.joined(separator: " · ")
                lines.append("<font point-size=\"9\">broadcast " + DOT.html(shapes) + "</font>")
                tips.append("broadcast " + shapes + " → " + DOT.shape(t.shape))
            }
            if let scope = node.scope { tips.append("inside " + scope.path.map(clusterLabel).joined(separator: " › ")) }
            if node.isFreed { tips.append("saved tensors freed by backward()") }
        } else if let name = parameterNames[ObjectIdentifier(t)] {
            kind = "parameter"
            fill = GraphPalette.parameter
            lines.append("<b>" + DOT.html(name) + "</b>")
            lines.append(DOT.html(DOT.shape(t.shape)))
            tips.append("parameter \(name) \(DOT.shape(t.shape))")
        } else {
            kind = "input"
            fill = (module == nil && t.requiresGrad) ? GraphPalette.parameter : GraphPalette.input
            lines.append("<b>input</b>")
            lines.append(DOT.html(DOT.shape(t.shape)))
            tips.append("input \(DOT.shape(t.shape))" + (t.requiresGrad ? ", requires grad" : ""))
            if t.requiresGrad { lines.append("<i>requires grad</i>") }
        }
        if options.showGradients, t.requiresGrad, t.isLeaf || t.grad != nil {
            let g = gradientLine(t)
            lines.append(g.html)
            tips.append(g.plain)
        }
        if isOutput {
            fill = GraphPalette.output
            lines.append("<i>output</i>")
        }
        if let note = options.notes[ObjectIdentifier(t)] {
            lines.append("<b>" + DOT.html(note) + "</b>")
            tips.append(note)
        }
        var problems: [String] = []
        if options.highlightNonFinite {
            let value = NumberScan(t.toArray())
            if !value.isFinite { problems.append(value.problem + " in value") }
            if let g = t.grad {
                let grad = NumberScan(g.toArray())
                if !grad.isFinite { problems.append(grad.problem + " in grad") }
            }
        }
        return statement(id: id(u), kind: isOutput ? kind + " output" : kind, fill: fill, lines: lines, tips: tips,
                         problems: problems, highlighted: options.highlight.contains(ObjectIdentifier(t)))
    }

    private func boxStatement(unit u: Int, scope: ModuleScope, members: [Int]) -> String {
        var ops = 0
        var parameterLines: [String] = [], tips: [String] = []
        var outputs: [String] = []
        var problems = NumberScan([])
        let label = clusterLabel(scope)
        tips.append("module call " + scope.path.map(clusterLabel).joined(separator: " › "))
        // Parameters in declaration order (weight before bias), then everything else.
        let ordered = members.filter { tensors[$0].isLeaf }.sorted {
            (parameterOrder[ObjectIdentifier(tensors[$0])] ?? Int.max, $0) < (parameterOrder[ObjectIdentifier(tensors[$1])] ?? Int.max, $1)
        } + members.filter { !tensors[$0].isLeaf }
        for i in ordered {
            let t = tensors[i]
            if options.highlightNonFinite {
                let s = NumberScan(t.toArray())
                problems.hasNaN = problems.hasNaN || s.hasNaN
                problems.hasInfinity = problems.hasInfinity || s.hasInfinity
                if let g = t.grad {
                    let gs = NumberScan(g.toArray())
                    problems.hasNaN = problems.hasNaN || gs.hasNaN
                    problems.hasInfinity = problems.hasInfinity || gs.hasInfinity
                }
            }
            if t.isLeaf {
                let name = parameterNames[ObjectIdentifier(t)] ?? "leaf"
                var line = DOT.html(name) + " " + DOT.html(DOT.shape(t.shape))
                var tip = name + " " + DOT.shape(t.shape)
                if options.showGradients {
                    let g = gradientLine(t)
                    line += " · " + g.html
                    tip += " · " + g.plain
                }
                parameterLines.append("<font point-size=\"9\">" + line + "</font>")
                tips.append(tip)
            } else {
                ops += 1
                if i == 0 || consumers[i].contains(where: { unitOf[$0] != u }) { outputs.append(DOT.shape(t.shape)) }
            }
        }
        var lines = ["<b>" + DOT.html(label) + "</b>"]
        lines.append("\(ops) op\(ops == 1 ? "" : "s") → " + DOT.html(outputs.joined(separator: ", ")))
        lines += parameterLines
        tips.append("\(ops) op\(ops == 1 ? "" : "s") folded; output \(outputs.joined(separator: ", "))")
        let isOutput = members.contains(0)
        if isOutput { lines.append("<i>output</i>") }
        return statement(id: id(u), kind: isOutput ? "module output" : "module",
                         fill: isOutput ? GraphPalette.output : GraphPalette.module,
                         lines: lines, tips: tips, problems: problems.isFinite ? [] : [problems.problem + " inside"],
                         highlighted: members.contains { options.highlight.contains(ObjectIdentifier(tensors[$0])) },
                         extraStyle: "filled,bold")
    }

    private func statement(id: String, kind: String, fill: String, lines: [String], tips: [String],
                           problems: [String], highlighted: Bool = false, extraStyle: String? = nil) -> String {
        var lines = lines, tips = tips, fill = fill
        var extra = ""
        var kind = kind
        if highlighted {
            fill = GraphPalette.highlight
            extra = ", color=\"\(GraphPalette.highlightBorder)\", penwidth=2.5"
            kind += " highlighted"
            tips.append(options.highlightMeaning)
        }
        if !problems.isEmpty {
            for p in problems {
                lines.append("<b>⚠ " + DOT.html(p) + "</b>")
                tips.append("⚠ " + p)
            }
            fill = GraphPalette.nonFinite
            extra = ", color=\"\(GraphPalette.nonFiniteBorder)\", penwidth=2.5"
        }
        if let extraStyle { extra += ", style=\"\(extraStyle)\"" }
        let cls = problems.isEmpty ? kind : kind + " nonfinite"
        return "\(id) [id=\"\(id)\", class=\"\(cls)\", fillcolor=\"\(fill)\"\(extra), tooltip=\(DOT.quoted(tips.joined(separator: "\n"))), label=<\(lines.joined(separator: "<br/>"))>]"
    }
}
