import Foundation


// How a tensor prints: like PyTorch, nested brackets with aligned numbers,
// eliding the middle of large tensors.
//
//     tensor([[1.0000, 2.0000],
//             [3.0000, 4.0000]], shape: [2, 2])

extension Tensor: CustomStringConvertible {
    /// A PyTorch-like rendering: values, then the shape and autograd facts.
    public var description: String {
        let values = toArray()
        let elide = values.count > 1000
        let formatted = values.map(formatElement)
        let width = formatted.map(\.count).max() ?? 0
        let body = formatAxis(0, start: 0, values: formatted, width: width, elide: elide, indent: 7)
        var extras = ["shape: \(shape)"]
        if let node { extras.append("op: \(node.op)") } else if requiresGrad { extras.append("requiresGrad: true") }
        return "tensor(\(body), \(extras.joined(separator: ", ")))"
    }

    private func formatElement(_ v: Float) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        let magnitude = Swift.abs(v)
        if magnitude != 0 && (magnitude >= 1e6 || magnitude < 1e-4) {
            return String(format: "%.4e", Double(v))
        }
        return String(format: "%.4f", Double(v))
    }

    /// Renders axis `axis` of the sub-tensor starting at flat position `start`.
    private func formatAxis(_ axis: Int, start: Int, values: [String], width: Int, elide: Bool, indent: Int) -> String {
        if rank == 0 { return values.first ?? "" }
        let n = shape[axis]
        let step = elementCount(Array(shape[(axis + 1)...]))
        var picks = Array(0..<n)
        if elide && n > 6 { picks = [0, 1, 2, -1, n - 3, n - 2, n - 1] }
        let parts: [String] = picks.map { i in
            if i < 0 { return "..." }
            if axis == rank - 1 {
                let s = values[start + i]
                return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
            }
            return formatAxis(axis + 1, start: start + i * step, values: values, width: width, elide: elide, indent: indent + 1)
        }
        if axis == rank - 1 { return "[" + parts.joined(separator: ", ") + "]" }
        let separator = "," + String(repeating: "\n", count: rank - axis - 1) + String(repeating: " ", count: indent + 1)
        return "[" + parts.joined(separator: separator) + "]"
    }
}
