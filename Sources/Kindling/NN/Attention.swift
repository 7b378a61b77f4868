#if canImport(Glibc)
import Glibc
#endif

// Attention (lesson 14): each position looks up the positions it may see,
// weighting each by how well its query matches that position's key — a
// dictionary lookup made soft, and so differentiable:
//
//     attention(Q, K, V) = softmax(Q·Kᵀ / √d) · V
//
// A causal mask hides the future: position t may only attend to 0…t, which
// is what lets a language model be trained on every position of a window
// at once without seeing the characters it must predict.

/// A [T, S] tensor of 0 where query t may see key s (s ≤ t + S − T) and −∞
/// where it may not; added to the scores before the softmax, the −∞ entries
/// become weights of exactly 0. With S == T it is the usual lower triangle.
public func causalMask(queries t: Int, keys s: Int) -> Tensor {
    var values = [Float](repeating: 0, count: t * s)
    for i in 0..<t {
        for j in 0..<s where j > i + (s - t) { values[i * s + j] = -.infinity }
    }
    return Tensor(values, shape: [t, s])
}

/// softmax(q·kᵀ / √d + mask) · v over the last two axes of q [..., T, d],
/// k [..., S, d] and v [..., S, dv] (leading axes broadcast, as matmul's do).
/// `causal` adds `causalMask`; `mask`, if given, is added too (−∞ hides).
/// A row whose every key is hidden has no weights to give and comes out NaN,
/// as in PyTorch.
public func scaledDotProductAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool = false,
                                      mask: Tensor? = nil) -> Tensor {
    require(q.rank >= 2 && k.rank >= 2 && v.rank >= 2 && q.shape.last == k.shape.last,
            "attention: queries \(q.shape) and keys \(k.shape) must end in the same width")
    require(k.shape[k.rank - 2] == v.shape[v.rank - 2],
            "attention: keys \(k.shape) and values \(v.shape) must have as many positions")
    let d = Float(q.shape[q.rank - 1])
    var scores = q.matmul(k.transposed()) * (1 / d.squareRoot())  // [..., T, S]
    guard let mask else {
        return maskedSoftmax(scores, causal: causal).matmul(v)  // FAST path: one pass per row
    }
    // The READABLE path, op by op: add the masks, then softmax.
    if causal { scores = scores + causalMask(queries: q.shape[q.rank - 2], keys: k.shape[k.rank - 2]) }
    return (scores + mask).softmax(axis: -1).matmul(v)
}

/// softmax over the last axis of `scores` [..., T, S], with the causal mask
/// applied when `causal` — the same as `(scores + causalMask(…)).softmax(axis: -1)`
/// in one op: each row's visible entries are shifted by their maximum,
/// exponentiated and normalized in one pass (hidden ones are exactly 0), and
/// the backward rule is softmax's own, dx = y ⊙ (g − Σ g ⊙ y) per row, instead
/// of five ops' worth of graph. (PyTorch's fused attention kernels do the same.)
public func maskedSoftmax(_ scores: Tensor, causal: Bool) -> Tensor {
    require(scores.rank >= 2, "maskedSoftmax: scores must be [..., queries, keys], got \(scores.shape)")
    let (t, s) = (scores.shape[scores.rank - 2], scores.shape[scores.rank - 1])
    let x = scores.contiguous()
    let rows = x.count / Swift.max(s, 1)
    /// How many leading keys row r may see.
    func visible(_ r: Int) -> Int { causal ? Swift.min(s, Swift.max(0, r % t + 1 + (s - t))) : s }
    let out = Tensor.zeros(scores.shape)
    let src = x.storage.base + x.offset, dst = out.storage.base
    parallelChunks(rows, minimumWork: x.count) { chunk in
        for r in chunk {
            let n = visible(r), row = src + r * s, y = dst + r * s
            guard n > 0 else {
                for j in 0..<s { y[j] = .nan }  // nothing to attend to, as PyTorch
                continue
            }
            var m = -Float.infinity
            for j in 0..<n { m = Swift.max(m, row[j]) }
            var sum: Float = 0
            for j in 0..<n {
                y[j] = expf(row[j] - m)
                sum += y[j]
            }
            let scale = 1 / sum
            for j in 0..<n { y[j] *= scale }
        }
    }
    withExtendedLifetime(x) {}  // `src` points into x's storage
    return Tensor.record(out, op: "maskedSoftmax", inputs: [scores]) { g in
        let gc = g.contiguous()
        let grad = Tensor.zeros(out.shape)
        let gp = gc.storage.base + gc.offset, yp = out.storage.base, dp = grad.storage.base
        parallelChunks(rows, minimumWork: out.count) { chunk in
            for r in chunk {
                let n = visible(r), base = r * s
                var dot: Float = 0
                for j in 0..<n { dot += gp[base + j] * yp[base + j] }
                for j in 0..<n { dp[base + j] = yp[base + j] * (gp[base + j] - dot) }
            }
        }
        withExtendedLifetime(gc) {}
        return [grad]
    }
}

/// Multi-head self-attention with PyTorch's parameters and names
/// (`in_proj_weight` [3E, E], `in_proj_bias` [3E], `out_proj`): the input
/// is projected to queries, keys and values in one product, split into
/// `heads` heads of E / heads features, each head attends on its own, and
/// the heads are joined and projected back to E.
public final class MultiheadAttention: Module {
    /// [3E, E]: the query, key and value projections stacked.
    public let inProjWeight: Tensor
    /// [3E].
    public let inProjBias: Tensor
    /// E → E after the heads are joined.
    public let outProj: Linear
    /// Heads.
    public let heads: Int
    /// Whether each position sees only itself and the ones before.
    public let causal: Bool

    /// Attention over `embedDim` features in `heads` heads.
    public init(_ embedDim: Int, heads: Int, causal: Bool = true) {
        require(heads >= 1 && embedDim % heads == 0,
                "MultiheadAttention(\(embedDim), heads: \(heads)): heads must divide the embedding width")
        inProjWeight = Init.xavierUniform([3 * embedDim, embedDim])
        inProjWeight.requiresGrad = true
        inProjBias = Tensor.zeros([3 * embedDim], requiresGrad: true)
        outProj = Linear(embedDim, embedDim)
        outProj.bias?.withUnsafeMutableElements { $0.update(repeating: 0) }  // PyTorch starts it at zero
        self.heads = heads
        self.causal = causal
        super.init()
    }

    public override func namedChildren() -> [(name: String, child: ModuleChild)] {
        [("in_proj_weight", .parameter(inProjWeight)), ("in_proj_bias", .parameter(inProjBias)),
         ("out_proj", .module(outProj))]
    }

    /// Self-attention over x [B, T, E] → [B, T, E].
    public override func forward(_ x: Tensor) -> Tensor {
        let e = inProjWeight.shape[1]
        require(x.rank == 3 && x.shape[2] == e, "MultiheadAttention(\(e), heads: \(heads)): input \(x.shape) must be [batch, time, \(e)]")
        let (b, t, width) = (x.shape[0], x.shape[1], e / heads)
        let qkv = x.matmul(inProjWeight.transposed()) + inProjBias  // [B, T, 3E]
        // [B, T, 3E] → [B, T, 3, heads, width] → [3, B, heads, T, width]: q, k, v by head.
        let split = qkv.reshaped([b, t, 3, heads, width]).permuted([2, 0, 3, 1, 4])
        let (q, k, v) = (split.selected(axis: 0, index: 0), split.selected(axis: 0, index: 1), split.selected(axis: 0, index: 2))
        let attended = scaledDotProductAttention(q, k, v, causal: causal)  // [B, heads, T, width]
        let joined = attended.permuted([0, 2, 1, 3]).contiguous().reshaped([b, t, e])
        return outProj(joined)
    }
}

/// A pre-norm transformer block (GPT-2's arrangement):
///
///     x = x + attention(layerNorm₁(x))
///     x = x + mlp(layerNorm₂(x))          mlp: Linear(E, 4E) → GELU → Linear(4E, E)
///
/// The residual path carries x through untouched, so the gradient reaches
/// early blocks undiminished; normalizing before each branch keeps every
/// branch's input at a steady scale however deep the stack.
public final class TransformerBlock: Module {
    /// Before attention.
    public let norm1: LayerNorm
    /// Causal self-attention.
    public let attention: MultiheadAttention
    /// Before the MLP.
    public let norm2: LayerNorm
    /// The position-wise MLP.
    public let mlp: Sequential

    /// A block over `embedDim` features with `heads` heads.
    public init(_ embedDim: Int, heads: Int, mlpRatio: Int = 4, causal: Bool = true) {
        norm1 = LayerNorm([embedDim])
        attention = MultiheadAttention(embedDim, heads: heads, causal: causal)
        norm2 = LayerNorm([embedDim])
        mlp = Sequential(Linear(embedDim, mlpRatio * embedDim), GELU(), Linear(mlpRatio * embedDim, embedDim))
        super.init()
    }

    /// x [B, T, E] → [B, T, E].
    public override func forward(_ x: Tensor) -> Tensor {
        let h = x + attention(norm1(x))
        return h + mlp(norm2(h))
    }
}

/// A table of learned vectors looked up by id (see `Tensor.embedding`): ids
/// [...] → [..., D]. The ids arrive as a tensor of whole numbers (a batch of
/// `TextDataset` windows); `weight` is [count, D], normal(0, 1) as in PyTorch.
public final class Embedding: Module {
    /// [count, dimension].
    public let weight: Tensor

    /// `count` vectors of `dimension` features.
    public init(_ count: Int, _ dimension: Int) {
        require(count > 0 && dimension > 0, "Embedding(\(count), \(dimension)): sizes must be positive")
        weight = Tensor.randn([count, dimension], requiresGrad: true)
        super.init()
    }

    /// The vectors of the ids in `x` (any shape, whole numbers in 0..<count).
    public override func forward(_ x: Tensor) -> Tensor {
        let layer = "Embedding(\(weight.shape[0]), \(weight.shape[1]))"
        let ids = x.toArray().map { value -> Int in
            require(value == value.rounded() && value >= 0 && value < Float(weight.shape[0]),
                    "\(layer): id \(value) is not a whole number in 0..<\(weight.shape[0])")
            return Int(value)
        }
        return weight.embedding(ids, shape: x.shape, caller: layer)
    }
}
