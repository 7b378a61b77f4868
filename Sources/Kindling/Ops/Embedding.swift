// Embedding lookup (lesson 13): a token id picks a row of a table.
//
// Forward is a gather: out[k] = table[ids[k]]. Backward is its mirror, a
// scatter-add: each row of the upstream gradient is added into the row of
// the table it came from — added, not assigned, because the same id can
// appear many times in a batch ("the" in every sentence) and each use
// contributes to that row's gradient.

extension Tensor {
    /// The rows of this [V, D] table at `ids`, shaped `shape + [D]`
    /// (`shape` defaults to `[ids.count]`). Every id must be in 0..<V.
    public func embedding(_ ids: [Int], shape: [Int]? = nil, caller: String = "embedding") -> Tensor {
        require(rank == 2, "\(caller): the table must be [V, D], got shape \(self.shape)")
        let (rows, width) = (self.shape[0], self.shape[1])
        let outShape = (shape ?? [ids.count]) + [width]
        require(elementCount(Array(outShape.dropLast())) == ids.count,
                "\(caller): \(ids.count) ids do not fill shape \(shape ?? [ids.count])")
        for id in ids where id < 0 || id >= rows {
            require(false, "\(caller): id \(id) is out of range for a table of \(rows) rows")
        }
        // BEGIN EXERCISE 13.3 — gather: output row k is row ids[k] of the table (Lessons/13-sequences.md)
        let table = contiguous()  // a view (a transposed table, say) becomes rows of `width` side by side
        let out = Tensor.zeros(outShape)
        let t = table.storage.base + table.offset
        out.withUnsafeMutableElements { o in
            for (k, id) in ids.enumerated() {
                for j in 0..<width { o[k * width + j] = t[id * width + j] }
            }
        }
        withExtendedLifetime(table) {}  // `t` points into table's storage
        return Tensor.record(out, op: "embedding", inputs: [table]) { g in
            [embeddingBackward(g, ids: ids, rows: rows)]
        }
        // END EXERCISE 13.3
    }
}

/// The gradient of an embedding lookup with respect to its [rows, D] table:
/// row k of `upstream` ([ids.count, D] elements) is added into row ids[k];
/// rows no id picked stay zero (lesson 13).
public func embeddingBackward(_ upstream: Tensor, ids: [Int], rows: Int) -> Tensor {
    let width = upstream.count / Swift.max(ids.count, 1)
    // BEGIN EXERCISE 13.4 — scatter-add: row k of the gradient is added into row ids[k] (Lessons/13-sequences.md)
    let grad = Tensor.zeros([rows, width])
    let source = upstream.contiguous()
    let g = source.storage.base + source.offset
    grad.withUnsafeMutableElements { d in
        for (k, id) in ids.enumerated() {
            for j in 0..<width { d[id * width + j] += g[k * width + j] }  // +=: an id used twice gets both rows
        }
    }
    withExtendedLifetime(source) {}  // `g` points into source's storage
    return grad
    // END EXERCISE 13.4
}
