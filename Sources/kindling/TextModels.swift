import ArgumentParser
import Kindling

/// What `--model` names: an image classifier or a character model.
enum ModelChoice: ExpressibleByArgument {
    case image(BuiltinModel)
    case text(TextModelKind)

    init?(argument: String) {
        if let image = BuiltinModel(rawValue: argument) { self = .image(image) }
        else if let text = TextModelKind(rawValue: argument) { self = .text(text) }
        else { return nil }
    }

    var defaultValueDescription: String {
        switch self {
        case .image(let m): return m.rawValue
        case .text(let m): return m.rawValue
        }
    }

    static var allValueStrings: [String] { BuiltinModel.allCases.map(\.rawValue) + TextModelKind.allCases.map(\.rawValue) }
}

/// The character-level language models `kindling train` and `kindling
/// sample` know. Each maps ids [B, T] to next-character logits [B, T, V].
enum TextModelKind: String, CaseIterable {
    case charlstm, gpt

    /// A fresh model over a vocabulary of `vocabulary` characters, for
    /// windows of up to `context` characters.
    func make(vocabulary: Int, context: Int) -> Module {
        switch self {
        case .charlstm: return CharLSTM(vocabulary: vocabulary)
        case .gpt: return GPT(vocabulary: vocabulary, context: context)
        }
    }

    /// Its name in `kindling bench` (`lstm_step_ms`, `gpt_step_ms`).
    var benchName: String { self == .charlstm ? "lstm" : "gpt" }

    /// The window length it trains on by default.
    var defaultContext: Int { 64 }

    /// Windows per step by default.
    var defaultBatchSize: Int { self == .charlstm ? 32 : 16 }

    /// Optimizer steps by default: a few minutes on two cores.
    var defaultSteps: Int { self == .charlstm ? 2000 : 1500 }
}

/// Lesson 13's model: embedding → one-layer LSTM → linear read-out.
final class CharLSTM: Module {
    let embedding: Embedding
    let lstm: LSTM
    let head: Linear

    init(vocabulary: Int, dimension: Int = 64, hidden: Int = 256) {
        embedding = Embedding(vocabulary, dimension)
        lstm = LSTM(dimension, hidden)
        head = Linear(hidden, vocabulary)
        super.init()
    }

    override func forward(_ x: Tensor) -> Tensor { head(lstm(embedding(x))) }
}

/// Lesson 14's model, a small GPT: token and learned position embeddings
/// summed, pre-norm transformer blocks, a final layer norm and a linear
/// read-out to the vocabulary.
final class GPT: Module {
    let tokens: Embedding
    let positions: Embedding
    let blocks: [TransformerBlock]
    let norm: LayerNorm
    let head: Linear

    init(vocabulary: Int, context: Int, width: Int = 128, depth: Int = 4, heads: Int = 4) {
        tokens = Embedding(vocabulary, width)
        positions = Embedding(context, width)
        blocks = (0..<depth).map { _ in TransformerBlock(width, heads: heads) }
        norm = LayerNorm([width])
        head = Linear(width, vocabulary)
        super.init()
        // GPT-2's initialization: small normal weights keep the residual stream's scale steady.
        noGrad {
            for table in [tokens.weight, positions.weight] { table.assign(Tensor.randn(table.shape) * 0.02) }
        }
    }

    /// ids [B, T] (T ≤ context) → logits [B, T, V].
    override func forward(_ x: Tensor) -> Tensor {
        let t = x.shape[1]
        require(t <= positions.weight.shape[0], "GPT: a window of \(t) characters is longer than its context of \(positions.weight.shape[0])")
        var h = tokens(x) + positions(Tensor.arange(0, Float(t)))  // [B, T, E] + [T, E]
        for block in blocks { h = block(h) }
        return head(norm(h))
    }
}

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
