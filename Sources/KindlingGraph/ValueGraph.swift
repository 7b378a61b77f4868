// Drawing a scalar `Value` graph (lesson 1) the way micrograd's `draw_dot`
// does: every value is a box `label | data | grad`, and every operation is a
// small oval between the values it read and the value it made:
//
//     a ─┐
//        (*) ─→ [ c | data -6.0000 | grad 1.0000 ]
//     b ─┘
//
// The walk is breadth-first from the output with an explicit queue, so long
// chains cannot overflow the stack, and ids follow discovery order, so the
// same expression always gives the same DOT text.

import Kindling

struct ValueGraphBuilder {
    let options: GraphOptions

    mutating func build(root: Value) -> Graph {
        // Walk.
        var values: [Value] = [root]
        var index: [ObjectIdentifier: Int] = [ObjectIdentifier(root): 0]
        var inputs: [[Int]] = []
        var head = 0
        while head < values.count {
            var mine: [Int] = []
            for input in values[head].inputs {
                let key = ObjectIdentifier(input)
                if let i = index[key] {
                    mine.append(i)
                } else {
                    index[key] = values.count
                    mine.append(values.count)
                    values.append(input)
                }
            }
            inputs.append(mine)
            head += 1
        }

        let kept = min(values.count, max(options.maxNodes, 1))
        let elided = values.count - kept
        var nodeIDs: [String] = []
        var text = DOT.header(options: options, rankdir: options.rankdir ?? .leftToRight,
                              nodeDefaults: "shape=plain, fontname=\"Helvetica\", fontsize=10")
        text += "  // \(values.count) values: \(kept) drawn, \(elided) elided\n"

        for i in 0..<kept {
            let v = values[i]
            let id = "n\(i)"
            var fill = v.isLeaf ? GraphPalette.parameter : GraphPalette.value
            var kind = v.isLeaf ? "leaf" : "value"
            if i == 0 { fill = GraphPalette.output; kind += " output" }
            var problems: [String] = []
            if options.highlightNonFinite {
                if !v.data.isFinite { problems.append(NumberScan(v.data).problem + " in data") }
                if !v.grad.isFinite { problems.append(NumberScan(v.grad).problem + " in grad") }
            }
            var cells = [
                v.label.isEmpty ? " " : DOT.html(v.label),
                "data " + DOT.fixed(v.data),
            ]
            var tip = (v.label.isEmpty ? "" : v.label + ": ") + "data \(DOT.fixed(v.data))"
            if options.showGradients {
                cells.append("grad " + DOT.fixed(v.grad))
                tip += ", grad \(DOT.fixed(v.grad))"
            }
            var border = ""
            if !problems.isEmpty {
                fill = GraphPalette.nonFinite
                kind += " nonfinite"
                cells.append("<b>⚠ " + DOT.html(problems.joined(separator: ", ")) + "</b>")
                tip += "\n⚠ " + problems.joined(separator: ", ")
                border = " color=\"\(GraphPalette.nonFiniteBorder)\""
            }
            let row = cells.map { "<td>\($0)</td>" }.joined()
            let table = "<table border=\"\(problems.isEmpty ? 0 : 2)\"\(border) cellborder=\"1\" cellspacing=\"0\" cellpadding=\"4\" bgcolor=\"\(fill)\"><tr>\(row)</tr></table>"
            text += "  \(id) [id=\"\(id)\", class=\"\(kind)\", tooltip=\(DOT.quoted(tip)), label=<\(table)>]\n"
            nodeIDs.append(id)
            if !v.isLeaf {
                let opID = id + "_op"
                text += "  \(opID) [id=\"\(opID)\", class=\"op\", shape=ellipse, style=filled, fillcolor=\"\(GraphPalette.op)\", "
                    + "tooltip=\(DOT.quoted("op " + v.op)), label=<\(DOT.html(v.op))>]\n"
                nodeIDs.append(opID)
            }
        }
        if elided > 0 {
            let label = "⋯ \(elided) more nodes<br/><font point-size=\"9\">not drawn (maxNodes = \(kept))</font>"
            text += "  more [id=\"more\", class=\"elided\", shape=box, style=\"dashed\", "
                + "tooltip=\(DOT.quoted("\(elided) of \(values.count) values not drawn; raise GraphOptions.maxNodes to see them")), label=<\(label)>]\n"
        }
        if options.showLegend {
            var entries: [(String, String)] = [
                (GraphPalette.parameter, "leaf value"),
                (GraphPalette.op, "operation"),
                (GraphPalette.value, "computed value"),
                (GraphPalette.output, "output"),
            ]
            if options.highlightNonFinite { entries.append((GraphPalette.nonFinite, "holds NaN or Inf")) }
            text += DOT.legend(entries)
        }

        // Edges: input value → op, op → its result.
        var moreLinked = Set<Int>()
        for i in 0..<kept where !values[i].isLeaf {
            for j in inputs[i] {
                if j < kept {
                    text += "  n\(j) -> n\(i)_op\n"
                } else if moreLinked.insert(i).inserted {
                    text += "  more -> n\(i)_op [style=dashed]\n"
                }
            }
            text += "  n\(i)_op -> n\(i)\n"
        }
        text += "}\n"
        return Graph(dot: text, nodeIDs: nodeIDs, nodeCount: values.count, elidedCount: elided)
    }
}
