// Tests of the autograd-graph visualizer: golden DOT text, SVG rendering,
// Graphviz error reporting, thread safety, huge graphs, NaN highlighting and
// escaping.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Kindling
import Testing
@testable import KindlingGraph

// MARK: - Golden DOT text

@Suite struct GoldenDOT {
    @Test func scalarValueExpression() {
        let dot = GraphFixtures.valueExpression().graph.dot
        expectSameText(dot, Goldens.valueExpression)
    }

    @Test func mlpLossNamesParametersAndClustersModules() {
        let dot = GraphFixtures.mlpLoss().graph.dot
        expectSameText(dot, Goldens.mlpLoss)
    }

    @Test func broadcastOp() {
        let dot = GraphFixtures.broadcast().dot
        expectSameText(dot, Goldens.broadcast)
    }

    @Test func sameComputationGivesByteIdenticalDOT() {
        let first = GraphFixtures.mlpLoss().graph.dot
        let second = GraphFixtures.mlpLoss().graph.dot
        #expect(first == second)
        var options = GraphOptions()
        options.collapseModules = true
        #expect(GraphFixtures.mlpLoss(options: options).graph.dot == GraphFixtures.mlpLoss(options: options).graph.dot)
    }
}

/// Compares line by line first, so a failure names the first differing line.
private func expectSameText(_ actual: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    for (i, (x, y)) in zip(a, e).enumerated() where x != y {
        Issue.record("line \(i + 1) differs:\n  got:      \(x)\n  expected: \(y)", sourceLocation: sourceLocation)
        return
    }
    #expect(a.count == e.count, "line counts differ", sourceLocation: sourceLocation)
    #expect(actual == expected, sourceLocation: sourceLocation)
}

// MARK: - What the drawing says

@Suite struct Content {
    @Test func mlpClustersAreLabelledWithDottedNames() {
        let dot = GraphFixtures.mlpLoss().graph.dot
        for label in ["<b>Sequential</b>", "<b>0 · Linear</b>", "<b>1 · ReLU</b>", "<b>2 · Linear</b>"] {
            #expect(dot.contains(label), "missing cluster \(label)")
        }
        for name in ["0.weight", "0.bias", "2.weight", "2.bias"] {
            #expect(dot.contains("<b>\(name)</b>"), "missing parameter \(name)")
        }
    }

    @Test func withoutAModuleClustersShowTypeNamesAndLeavesAreInputs() {
        let model = GraphFixtures.mlp()
        let loss = crossEntropy(model(Tensor([1, 2, 3], shape: [1, 3])), [1])
        let dot = Graph(of: loss).dot
        #expect(dot.contains("label=<<b>Linear</b>>"))
        #expect(!dot.contains("0.weight"))
        #expect(dot.contains("<b>input</b><br/>[2, 3]<br/><i>requires grad</i>"))
        #expect(dot.contains("<i>no grad yet</i>"))  // no backward() yet
    }

    @Test func nestedModulesGiveNestedClusters() throws {
        let inner = Sequential(Linear(2, 2), Tanh())
        let model = Sequential(inner, Linear(2, 1))
        let y = model(Tensor([1, 2], shape: [1, 2])).sum()
        let dot = Graph(of: y, module: model).dot
        // "0 · Sequential" is opened inside the outer cluster, and "0.0 · Linear" inside it.
        let lines = dot.split(separator: "\n").map(String.init)
        func depth(ofClusterLabelled label: String) throws -> Int {
            let i = try #require(lines.firstIndex { $0.contains("label=<<b>\(label)</b>>") })
            return lines[i].prefix { $0 == " " }.count
        }
        let outer = try depth(ofClusterLabelled: "Sequential")
        let middle = try depth(ofClusterLabelled: "0 · Sequential")
        let innermost = try depth(ofClusterLabelled: "0.0 · Linear")
        #expect(outer < middle && middle < innermost)
        #expect(try depth(ofClusterLabelled: "1 · Linear") == middle)
    }

    @Test func collapsedViewDrawsOneBoxPerModuleCall() {
        var options = GraphOptions()
        options.collapseModules = true
        let graph = GraphFixtures.mlpLoss(options: options).graph
        // crossEntropy, three layer boxes, the input.
        #expect(graph.nodeCount == 5)
        #expect(graph.dot.components(separatedBy: "class=\"module\"").count - 1 == 3 + 1)  // 3 boxes + 1 cluster
        #expect(graph.dot.contains("<b>0 · Linear</b><br/>3 ops → [2, 2]"))
        #expect(graph.dot.contains("0.weight [2, 3] · grad ‖·‖₂ = 0.1456"))
        #expect(graph.dot.contains("module call (collapsed)"))  // legend entry
    }

    @Test func gradientsCanBeHidden() {
        var options = GraphOptions()
        options.showGradients = false
        options.showLegend = false
        let dot = GraphFixtures.mlpLoss(options: options).graph.dot
        #expect(!dot.contains("grad"))
        #expect(!dot.contains("legend"))
    }

    @Test func graphIsNamedAndTitled() {
        var options = GraphOptions()
        options.name = "my \"net\""
        options.title = "loss < 1 & falling"
        let dot = GraphFixtures.broadcast(options: options).dot
        #expect(dot.hasPrefix("digraph \"my \\\"net\\\"\" {\n"))
        #expect(dot.contains("label=<<b>loss &lt; 1 &amp; falling</b>>"))
    }

    @Test func leafOnlyGraph() throws {
        let graph = Graph(of: Tensor([1, 2, 3]))
        #expect(graph.nodeIDs == ["n0"])
        #expect(graph.dot.contains("class=\"input output\""))
        _ = try graph.svg()
    }
}

// MARK: - SVG

/// Collects what the tests need from an SVG document.
private final class SVGSummary: NSObject, XMLParserDelegate {
    var ids: [String] = []
    var classes: [String: String] = [:]
    var titles: [String] = []
    var texts: [String] = []
    var tooltips: [String] = []
    private var inTitle = false, inText = false
    private var buffer = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        if let id = attributes["id"] {
            ids.append(id)
            classes[id] = attributes["class"]
        }
        if let tip = attributes["xlink:title"] { tooltips.append(tip) }
        if name == "title" || name == "text" { buffer = "" }
        inTitle = name == "title"
        inText = name == "text"
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inTitle || inText { buffer += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "title" { titles.append(buffer); inTitle = false }
        if name == "text" { texts.append(buffer); inText = false }
    }
}

private func parseSVG(_ data: Data, sourceLocation: SourceLocation = #_sourceLocation) throws -> SVGSummary {
    let parser = XMLParser(data: data)
    let summary = SVGSummary()
    parser.delegate = summary
    let ok = parser.parse()
    #expect(ok, "SVG is not well-formed XML: \(String(describing: parser.parserError))", sourceLocation: sourceLocation)
    return summary
}

@Suite struct SVG {
    @Test func mlpGraphRendersToWellFormedSVGWithEveryNodeID() throws {
        let graph = GraphFixtures.mlpLoss().graph
        let svg = try parseSVG(try graph.svg())
        #expect(svg.titles.first == "kindling")  // named graph, not "%3"
        #expect(graph.nodeIDs.count == 13)
        for id in graph.nodeIDs + ["legend"] {
            #expect(svg.ids.contains(id), "node \(id) missing from the SVG")
        }
        #expect(svg.classes["n0"] == "node op output")
        #expect(svg.classes["n12"] == "node parameter")
        #expect(svg.classes["cluster_0"] == "cluster module")
        #expect(svg.texts.contains("0.weight"))
        #expect(svg.tooltips.contains { $0.contains("parameter 0.weight [2, 3]") })
    }

    @Test func valueGraphRendersWithOpNodes() throws {
        let graph = GraphFixtures.valueExpression().graph
        let svg = try parseSVG(try graph.svg())
        #expect(graph.nodeIDs == ["n0", "n0_op", "n1", "n1_op", "n2", "n3", "n3_op", "n4", "n5", "n6"])
        for id in graph.nodeIDs { #expect(svg.ids.contains(id)) }
        #expect(svg.texts.contains("data -8.0000"))
        #expect(svg.texts.contains("grad 6.0000"))
    }

    @Test func collapsedAndBroadcastGraphsRender() throws {
        var options = GraphOptions()
        options.collapseModules = true
        for graph in [GraphFixtures.mlpLoss(options: options).graph, GraphFixtures.broadcast()] {
            let svg = try parseSVG(try graph.svg())
            for id in graph.nodeIDs { #expect(svg.ids.contains(id)) }
        }
    }

    @Test func writesSVGOrDOTByExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kindling-graph-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, loss, model) = GraphFixtures.mlpLoss()
        try loss.renderGraph(to: dir.appendingPathComponent("loss.svg").path, module: model)
        try loss.renderGraph(to: dir.appendingPathComponent("loss.dot").path, module: model)
        let (_, value) = GraphFixtures.valueExpression()
        try value.renderGraph(to: dir.appendingPathComponent("value.svg").path)
        _ = try parseSVG(try Data(contentsOf: dir.appendingPathComponent("loss.svg")))
        _ = try parseSVG(try Data(contentsOf: dir.appendingPathComponent("value.svg")))
        let dot = try String(contentsOf: dir.appendingPathComponent("loss.dot"), encoding: .utf8)
        #expect(dot == Goldens.mlpLoss)
    }
}

// MARK: - Graphviz errors and concurrency

@Suite struct GraphvizBehaviour {
    @Test(arguments: [
        ("digraph { a -> }", "syntax error"),
        ("digraph G { a [label=\"unterminated] }", "syntax error"),
        ("digraph G { a [label=<<b>x</i>>] }", "mismatched tag"),
        ("digraph G { a [label=<a & b>] }", "not well-formed"),
        ("graph G { a -> b }", "syntax error"),
        ("", "no graph"),
    ])
    func malformedDOTThrowsGraphvizsMessage(dot: String, expected: String) {
        do {
            _ = try Graphviz.renderSVG(dot: dot)
            Issue.record("rendering \(dot.debugDescription) should have thrown")
        } catch let error as GraphvizError {
            #expect(error.message.contains(expected), "message: \(error.message)")
            #expect("\(error)".hasPrefix("Graphviz failed to "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func renderingWorksAgainAfterAnError() throws {
        #expect(throws: GraphvizError.self) { try Graphviz.renderSVG(dot: "digraph { a -> ; }") }
        let svg = try parseSVG(try Graphviz.renderSVG(dot: "digraph ok { a -> b }"))
        #expect(svg.titles.first == "ok")
    }

    @Test func onlyTheFirstGraphIsDrawnAndLeftoverTextDoesNotLeakIntoTheNextRender() throws {
        // Graphviz's scanner keeps unread text in a global buffer; without a flush
        // the second render would draw "B" and the third would fail on "garbage".
        let first = try parseSVG(try Graphviz.renderSVG(dot: "digraph A { a } digraph B { b }"))
        #expect(first.titles.first == "A")
        let second = try parseSVG(try Graphviz.renderSVG(dot: "digraph C { c }"))
        #expect(second.titles.first == "C")
        _ = try Graphviz.renderSVG(dot: "digraph D {\n d\n}\n garbage {")
        let third = try parseSVG(try Graphviz.renderSVG(dot: "digraph E { e }"))
        #expect(third.titles.first == "E")
    }

    @Test func errorsReportLineNumbersOfTheirOwnText() {
        _ = try? Graphviz.renderSVG(dot: "digraph A {\n\n\n\n a\n}\n")
        do {
            _ = try Graphviz.renderSVG(dot: "digraph B {\n\n -> }")
            Issue.record("should have thrown")
        } catch {
            #expect("\(error)".contains("syntax error in line 3 near '->'"))
        }
    }

    @Test func warningsDoNotThrow() throws {
        _ = try parseSVG(try Graphviz.renderSVG(dot: "digraph G { a [shape=nosuchshape] }"))
    }

    @Test func thirtyTwoConcurrentRendersAllSucceed() async throws {
        let sizes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for task in 0..<32 {
                group.addTask {
                    // Each task builds its own graph (a different one), then renders it.
                    let a = Value(Double(task), label: "a\(task)"), b = Value(2, label: "b")
                    let y = (a * b + a).tanh()
                    y.backward()
                    var options = GraphOptions()
                    options.name = "task\(task)"
                    let svg = try Graph(of: y, options: options).svg()
                    let text = String(decoding: svg, as: UTF8.self)
                    return (task, text.contains("<title>task\(task)</title>") && text.hasSuffix("</svg>\n") ? 1 : 0)
                }
            }
            var results: [Int: Int] = [:]
            for try await (task, ok) in group { results[task] = ok }
            return results
        }
        #expect(sizes.count == 32)
        #expect(sizes.values.allSatisfy { $0 == 1 })
    }

    @Test func versionIsKnown() {
        #expect(Graphviz.version.first?.isNumber == true)
    }
}

// MARK: - Big graphs

@Suite struct BigGraphs {
    @Test func fiftyThousandOpChainIsCappedAndSaysHowManyWereElided() throws {
        let x = Tensor([1], requiresGrad: true)
        var y = x
        for _ in 0..<50_000 { y = y * 1.0001 }
        let graph = Graph(of: y)
        #expect(graph.nodeCount == 50_001)
        #expect(graph.elidedCount == 50_001 - 400)
        #expect(graph.nodeIDs.count == 400)
        #expect(graph.dot.contains("⋯ 49601 more nodes"))
        #expect(graph.dot.contains("// 50001 tensors, 50001 nodes: 400 drawn, 49601 elided"))
        let svg = try parseSVG(try graph.svg())
        #expect(svg.ids.contains("more"))
        #expect(svg.ids.contains("n399"))
        #expect(!graph.dot.contains("n400 "))
    }

    @Test func fiftyThousandValueChainIsCapped() throws {
        var v = Value(1, label: "x")
        for _ in 0..<50_000 { v = v * 1.0 }
        var options = GraphOptions()
        options.maxNodes = 50
        let graph = Graph(of: v, options: options)
        // 50,000 products, each with a constant leaf, plus x.
        #expect(graph.nodeCount == 100_001)
        #expect(graph.elidedCount == 100_001 - 50)
        #expect(graph.dot.contains("⋯ 99951 more nodes"))
        _ = try parseSVG(try graph.svg())
    }

    @Test func collapsedModulesRespectTheCap() throws {
        let model = Sequential((0..<30).map { _ in Linear(2, 2) })
        let y = model(Tensor([1, 2], shape: [1, 2])).sum()
        var options = GraphOptions()
        options.collapseModules = true
        options.maxNodes = 10
        let graph = Graph(of: y, module: model, options: options)
        #expect(graph.nodeCount == 32)  // sum, 30 boxes, the input
        #expect(graph.elidedCount == 22)
        #expect(graph.dot.contains("<b>29 · Linear</b>"))
        #expect(!graph.dot.contains("<b>0 · Linear</b>"))
        _ = try parseSVG(try graph.svg())
    }
}

// MARK: - NaN / Inf

@Suite struct NonFinite {
    @Test func nanValueIsDrawnRed() throws {
        let x = Tensor([1, .nan, 3], requiresGrad: true)
        let y = (x * 2).sum()
        y.backward()
        let graph = Graph(of: y)
        let lines = graph.dot.split(separator: "\n")
        let leaf = try #require(lines.first { $0.contains("id=\"n2\"") })
        #expect(leaf.contains("class=\"input nonfinite\""))
        #expect(leaf.contains("fillcolor=\"#ff9999\", color=\"red\""))
        #expect(leaf.contains("⚠ NaN in value"))
        // The NaN flows into the product and the sum.
        #expect(lines.filter { $0.contains("nonfinite") }.count == 3)
        let svg = try parseSVG(try graph.svg())
        #expect(svg.classes["n2"] == "node input nonfinite")
    }

    @Test func infiniteGradientIsDrawnRed() {
        let x = Tensor([0, 4], requiresGrad: true)
        let y = x.sqrt().sum()
        y.backward()  // d√x/dx = 1/(2√x) = ∞ at 0
        let dot = Graph(of: y).dot
        #expect(dot.contains("⚠ Inf in grad"))
        #expect(dot.contains("grad ‖·‖₂ = inf"))
    }

    @Test func nanValueInScalarGraphIsDrawnRed() {
        let a = Value(.nan, label: "a")
        let y = a * 2
        y.backward()
        let dot = Graph(of: y).dot
        #expect(dot.contains("class=\"leaf nonfinite\""))
        #expect(dot.contains("⚠ NaN in data"))
        #expect(dot.contains("bgcolor=\"#ff9999\""))
    }

    @Test func highlightingCanBeSwitchedOff() {
        var options = GraphOptions()
        options.highlightNonFinite = false
        let x = Tensor([Float.nan], requiresGrad: true)
        #expect(!Graph(of: (x * 2).sum(), options: options).dot.contains("nonfinite"))
    }
}

// MARK: - Escaping

/// A module whose parameter has a name full of characters that HTML, DOT and
/// SVG treat specially.
private final class Awkward: Module {
    static let name = "w<&>\"'\\ \u{7}"
    let w = Tensor([1, 2], requiresGrad: true)
    override func namedChildren() -> [(name: String, child: ModuleChild)] { [(Self.name, .parameter(w))] }
    override func forward(_ x: Tensor) -> Tensor { x * w }
}

@Suite struct Escaping {
    @Test func parameterNameWithSpecialCharactersIsEscaped() throws {
        let model = Awkward()
        let y = model(Tensor([3, 4])).sum()
        y.backward()
        let graph = Graph(of: y, module: model)
        #expect(graph.dot.contains("label=<<b>w&lt;&amp;&gt;&quot;&#39;\\ ␇</b>"))
        #expect(graph.dot.contains("tooltip=\"parameter w<&amp;>\\\"'\\\\ ␇ [2]"))
        #expect(!graph.dot.contains("\u{7}"))
        let svg = try parseSVG(try graph.svg())
        #expect(svg.texts.contains("w<&>\"'\\ ␇"))
        #expect(svg.tooltips.contains { $0.hasPrefix("parameter w<&>\"'\\ ␇ [2]") })
    }

    @Test func valueLabelsAndOpsAreEscaped() throws {
        let a = Value(1, label: "<a & \"b\">\n'c'")
        let y = Value(2, inputs: [a], localGrads: [2], op: "<&op>")
        let graph = Graph(of: y)
        #expect(graph.dot.contains("<td>&lt;a &amp; &quot;b&quot;&gt;␊&#39;c&#39;</td>"))
        #expect(graph.dot.contains("label=<&lt;&amp;op&gt;>"))
        let svg = try parseSVG(try graph.svg())
        #expect(svg.texts.contains("<a & \"b\">␊'c'"))
        #expect(svg.texts.contains("<&op>"))
    }

    @Test func helpers() {
        #expect(DOT.html("<&>\"'") == "&lt;&amp;&gt;&quot;&#39;")
        #expect(DOT.html("a\u{0}b\u{1F}c\u{7F}") == "a␀b␟c␡")
        #expect(DOT.quoted("say \"hi\"\\\n&") == "\"say \\\"hi\\\"\\\\\\n&amp;\"")
        #expect(DOT.number(0.000123456) == "0.0001235")
        #expect(DOT.number(.infinity) == "inf")
        #expect(DOT.shape([]) == "[]")
    }
}
