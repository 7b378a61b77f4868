import Foundation
import Kindling
@testable import KindlingGraph
import Testing

// `GraphOptions.highlight` and `notes`: the nodes a gradient diagnosis blames
// are drawn red, with a legend line and a note.

@Suite("Graph highlight") struct HighlightTests {
    @Test func highlightedTensorsAreRedWithALegendLineAndANote() throws {
        let w = Tensor([1, 2, 3], requiresGrad: true)
        let m = w * Tensor([4, 5, 6])
        let loss = m.sum()
        var options = GraphOptions()
        options.highlight = [ObjectIdentifier(m), ObjectIdentifier(w)]
        options.highlightMeaning = "gradient wrong"
        options.notes = [ObjectIdentifier(m): "⚠ wrong backward rule"]
        let dot = Graph(of: loss, options: options).dot
        let lines = dot.split(separator: "\n")
        let red = lines.filter { $0.contains("class=\"") && $0.contains("highlighted") }
        #expect(red.count == 2, "m and w are highlighted:\n\(dot)")
        #expect(red.allSatisfy { $0.contains("fillcolor=\"\(GraphPalette.highlight)\"") && $0.contains(GraphPalette.highlightBorder) })
        #expect(lines.contains { $0.contains("class=\"op output\"") && !$0.contains("highlighted") }, "the loss is not")
        #expect(dot.contains("⚠ wrong backward rule"))
        #expect(dot.contains("bgcolor=\"\(GraphPalette.highlight)\"") && dot.contains("gradient wrong"), "the legend explains the red")
        _ = try Graph(of: loss, options: options).svg()  // Graphviz accepts it
    }

    @Test func withoutHighlightsTheLegendHasNoRedLine() {
        let w = Tensor([1, 2], requiresGrad: true)
        let dot = Graph(of: (w * w).sum()).dot
        #expect(!dot.contains(GraphPalette.highlight) && !dot.contains("highlighted"))
    }
}
