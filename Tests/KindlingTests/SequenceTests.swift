import Foundation
import Kindling
import Testing

// Tests of the sequence and attention layers (lessons 13–14): text data,
// embeddings, recurrent cells, clipping, attention, sampling.
//
// `Data/golden_seq.json` and `Data/torch_seq.safetensors` are written by
// `scripts/golden_seq.py` (PyTorch): each layer's output on a fixed input
// and the gradients of Σ w ⊙ output for every input and parameter.

private func seqDataURL(_ name: String) -> URL {
    Bundle.module.url(forResource: "Data", withExtension: nil)!.appendingPathComponent(name)
}

private struct SequenceCase: Decodable {
    let input_shape: [Int]
    let input: [Float]
    let output_shape: [Int]
    let output: [Float]
    let parameter_grads: [String: [Float]]
    let input_grad: [Float]?
}

private let goldenCases: [String: SequenceCase] = {
    guard let data = try? Data(contentsOf: seqDataURL("golden_seq.json")) else { return [:] }
    return (try? JSONDecoder().decode([String: SequenceCase].self, from: data)) ?? [:]
}()

/// The tensors of `torch_seq.safetensors` under `prefix`, with it removed.
private func torchState(_ prefix: String) throws -> [String: Tensor] {
    let all = try loadSafetensors(from: seqDataURL("torch_seq.safetensors").path)
    var state: [String: Tensor] = [:]
    for (name, tensor) in all where name.hasPrefix(prefix) { state[String(name.dropFirst(prefix.count))] = tensor }
    return state
}

/// Largest |a − b| over two equally long arrays (∞ if the lengths differ).
private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
}

/// Runs `model` on the case's input, checks the output and every gradient
/// against PyTorch's within `tolerance`.
private func checkAgainstTorch(_ name: String, model: Module, tolerance: Float = 2e-5,
                               run: (Tensor) -> Tensor) throws {
    let golden = try #require(goldenCases[name], "no golden case \(name) in golden_seq.json")
    try model.load(stateDict: torchState(name + "."))
    let x = Tensor(golden.input, shape: golden.input_shape, requiresGrad: golden.input_grad != nil)
    let out = run(x)
    #expect(out.shape == golden.output_shape, "\(name): output shape \(out.shape), PyTorch \(golden.output_shape)")
    #expect(maxDifference(out.toArray(), golden.output) < tolerance, "\(name): output differs from PyTorch's")
    let count = golden.output.count
    let w = Tensor((0..<count).map { 0.5 + Float($0) / Float(Swift.max(count - 1, 1)) }, shape: out.shape)
    (out * w).sum().backward()
    if let expected = golden.input_grad {
        #expect(maxDifference(x.grad?.toArray() ?? [], expected) < tolerance, "\(name): input gradient differs")
    }
    let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
    #expect(Set(parameters.keys) == Set(golden.parameter_grads.keys), "\(name): parameter names \(parameters.keys.sorted())")
    for (key, expected) in golden.parameter_grads {
        let difference = maxDifference(parameters[key]?.grad?.toArray() ?? [], expected)
        #expect(difference < tolerance, "\(name): gradient of \(key) differs from PyTorch's by \(difference)")
    }
}

/// Embedding → LSTM → Linear, named as scripts/golden_seq.py's CharModel.
private final class CharModel: Module {
    let embedding: Embedding
    let lstm: LSTM
    let head: Linear

    init(vocabulary: Int, dimension: Int, hidden: Int) {
        embedding = Embedding(vocabulary, dimension)
        lstm = LSTM(dimension, hidden)
        head = Linear(hidden, vocabulary)
        super.init()
    }

    override func forward(_ x: Tensor) -> Tensor { head(lstm(embedding(x))) }
}

/// GRUCell unrolled from a zero state, as scripts/golden_seq.py's GRUSteps.
private final class GRUSteps: Module {
    let cell = GRUCell(4, 3)
    override func forward(_ x: Tensor) -> Tensor {
        var h = Tensor.zeros([x.shape[0], 3])
        var outputs: [Tensor] = []
        for t in 0..<x.shape[1] {
            h = cell.step(x.selected(axis: 1, index: t), h)
            outputs.append(h)
        }
        return Tensor.stacked(outputs, axis: 1)
    }
}

/// MultiheadAttention under the name scripts/golden_seq.py gives it.
private final class AttentionHolder: Module {
    let inner = MultiheadAttention(8, heads: 2)
    override func forward(_ x: Tensor) -> Tensor { inner(x) }
}

@Suite("Sequence layers agree with PyTorch")
struct SequenceGoldenTests {
    @Test func rnn() throws { let m = RNN(4, 3); try checkAgainstTorch("rnn", model: m) { m($0) } }
    @Test func lstm() throws { let m = LSTM(4, 3); try checkAgainstTorch("lstm", model: m) { m($0) } }
    @Test func gruCell() throws { let m = GRUSteps(); try checkAgainstTorch("gru", model: m) { m($0) } }
    @Test func causalMultiheadAttention() throws {
        let m = AttentionHolder()
        try checkAgainstTorch("attention", model: m) { m($0) }
    }
    @Test func transformerBlock() throws {
        let m = TransformerBlock(8, heads: 2)
        try checkAgainstTorch("block", model: m, tolerance: 5e-5) { m($0) }
    }
    @Test func embeddingLSTMLinear() throws {
        let m = CharModel(vocabulary: 7, dimension: 5, hidden: 4)
        try checkAgainstTorch("char", model: m) { m($0) }
    }
}

@Suite("Embedding")
struct EmbeddingTests {
    @Test func looksUpRowsAndScatterAddsTheGradient() {
        let table = Tensor((0..<12).map(Float.init), shape: [4, 3], requiresGrad: true)
        let out = table.embedding([2, 0, 2], shape: [1, 3])
        #expect(out.shape == [1, 3, 3])
        #expect(out.toArray() == [6, 7, 8, 0, 1, 2, 6, 7, 8])
        out.sum().backward()
        // Row 2 was used twice: its gradient is 2, not 1 (added, not assigned).
        #expect(table.grad?.toArray() == [1, 1, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0])
    }

    @Test func gradchecks() {
        let table = Tensor.randn([5, 3], requiresGrad: true)
        #expect(gradcheck([table]) { $0[0].embedding([4, 1, 1, 0, 4, 4], shape: [2, 3]).tanh() }.passed)
    }

    @Test func anIdOutOfRangeNamesTheLayer() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Embedding(5, 3)(Tensor([1, 5], shape: [2]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Embedding(5, 3)") && message.contains("id 5.0"), "\(message)")
    }
}

@Suite("Recurrent layers")
struct RecurrentTests {
    @Test func statesDictsUsePyTorchNames() {
        #expect(LSTMCell(3, 2).namedParameters().map(\.name) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        #expect(LSTM(3, 2).namedParameters().map(\.name) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"])
        #expect(LSTMCell(3, 2).weightIH.shape == [8, 3] && GRUCell(3, 2).weightHH.shape == [6, 2])
    }

    @Test func lstmCellGradchecks() {
        let cell = LSTMCell(3, 2)
        let x = Tensor.randn([2, 3], requiresGrad: true)
        let h = Tensor.randn([2, 2], requiresGrad: true), c = Tensor.randn([2, 2], requiresGrad: true)
        let report = gradcheck([x, h, c, cell.weightIH, cell.weightHH]) { _ in
            let next = cell.step(x, LSTMState(h: h, c: c))
            return Tensor.concatenated([next.h, next.c], axis: 1)
        }
        #expect(report.passed, "\(report)")
    }

    @Test func theGradientReachesFiftyStepsBack() {
        // Backprop through time: the loss at the last step depends on the first input.
        let lstm = LSTM(2, 4)
        let x = Tensor.randn([1, 50, 2], requiresGrad: true)
        let out = lstm(x)
        out.selected(axis: 1, index: 49).sum().backward()
        let first = x.grad!.selected(axis: 1, index: 0).toArray()
        #expect(first.contains { $0 != 0 }, "no gradient reached step 0 of 50")
        #expect(first.allSatisfy { $0.isFinite })
    }

    @Test func aSequenceOfOneAndABatchOfOne() {
        let lstm = LSTM(3, 2)
        let (output, state) = lstm.run(Tensor.randn([1, 1, 3]))
        #expect(output.shape == [1, 1, 2] && state.h.shape == [1, 2])
        #expect(output.selected(axis: 1, index: 0).toArray() == state.h.toArray())
    }

    @Test func aWrongInputWidthNamesTheLayerAndTheShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = LSTM(3, 2)(Tensor.zeros([4, 5, 7]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("LSTM(3, 2)") && message.contains("[4, 5, 7]"), "\(message)")
    }
}

@Suite("Gradient clipping")
struct ClippingTests {
    @Test func scalesTheWholeGradientToTheBound() {
        let a = Tensor([0, 0], requiresGrad: true), b = Tensor([0], requiresGrad: true)
        a.grad = Tensor([3, 0])
        b.grad = Tensor([4])
        let norm = clipGradNorm([a, b], maxNorm: 1)
        #expect(Swift.abs(norm - 5) < 1e-6)
        // Direction kept: 3:4 stays 3:4, now of length 1.
        #expect(maxDifference(a.grad!.toArray() + b.grad!.toArray(), [0.6, 0, 0.8]) < 1e-5)
    }

    @Test func leavesASmallGradientAlone() {
        let a = Tensor([0, 0], requiresGrad: true)
        a.grad = Tensor([0.3, 0.4])
        #expect(Swift.abs(clipGradNorm([a], maxNorm: 1) - 0.5) < 1e-6)
        #expect(a.grad!.toArray() == [0.3, 0.4])
    }
}

@Suite("Attention")
struct AttentionTests {
    @Test func theCausalMaskHidesTheFuture() {
        // Change the last position's value: no earlier output may move.
        let q = Tensor.randn([1, 4, 3]), k = Tensor.randn([1, 4, 3]), v = Tensor.randn([1, 4, 3])
        let before = scaledDotProductAttention(q, k, v, causal: true).toArray()
        let changed = v.toArray().enumerated().map { $0.offset >= 9 ? $0.element + 10 : $0.element }
        let after = scaledDotProductAttention(q, k, Tensor(changed, shape: [1, 4, 3]), causal: true).toArray()
        #expect(Array(before[0..<9]) == Array(after[0..<9]))
        #expect(before[9..<12] != after[9..<12])
    }

    @Test func theFirstPositionAttendsOnlyToItself() {
        let q = Tensor.randn([2, 5, 4]), k = Tensor.randn([2, 5, 4]), v = Tensor.randn([2, 5, 4])
        let out = scaledDotProductAttention(q, k, v, causal: true)
        #expect(maxDifference(out.selected(axis: 1, index: 0).toArray(), v.selected(axis: 1, index: 0).toArray()) < 1e-6)
    }

    @Test func gradientsThroughAMaskedSoftmaxAreFinite() {
        let q = Tensor.randn([1, 3, 2], requiresGrad: true), k = Tensor.randn([1, 3, 2], requiresGrad: true)
        let v = Tensor.randn([1, 3, 2], requiresGrad: true)
        let report = gradcheck([q, k, v]) { scaledDotProductAttention($0[0], $0[1], $0[2], causal: true) }
        #expect(report.passed, "\(report)")
        #expect(q.grad!.toArray().allSatisfy { $0.isFinite })
    }

    @Test func theFusedMaskedSoftmaxIsTheComposedOne() {
        // The fast path (no extra mask) against the readable one (a zero mask added op by op).
        let q = Tensor.randn([2, 3, 4, 5], requiresGrad: true), k = Tensor.randn([2, 3, 6, 5], requiresGrad: true)
        let v = Tensor.randn([2, 3, 6, 5])
        for causal in [true, false] {
            let fast = scaledDotProductAttention(q, k, v, causal: causal)
            fast.sum().backward()
            let fastGrads = q.grad!.toArray() + k.grad!.toArray()
            q.zeroGrad(); k.zeroGrad()
            let readable = scaledDotProductAttention(q, k, v, causal: causal, mask: Tensor.zeros([4, 6]))
            readable.sum().backward()
            #expect(maxDifference(fast.toArray(), readable.toArray()) < 1e-5, "causal \(causal): outputs differ")
            #expect(maxDifference(fastGrads, q.grad!.toArray() + k.grad!.toArray()) < 1e-4, "causal \(causal): gradients differ")
            q.zeroGrad(); k.zeroGrad()
        }
        let scores = Tensor.randn([2, 3, 3], requiresGrad: true)
        #expect(gradcheck([scores]) { maskedSoftmax($0[0], causal: true) }.passed)
    }

    @Test func headsMustDivideTheWidth() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = MultiheadAttention(10, heads: 3)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("MultiheadAttention(10, heads: 3)"), "\(message)")
    }
}

@Suite("Sampling")
struct SamplingTests {
    @Test func temperatureZeroIsGreedyAndASeedRepeats() {
        var g = SeededGenerator(seed: 1)
        #expect(sampleToken(logits: [0.1, 2, 0.5], temperature: 0, using: &g) == 1)
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        let first = (0..<20).map { _ in sampleToken(logits: [0, 1, 2, 3], using: &a) }
        let second = (0..<20).map { _ in sampleToken(logits: [0, 1, 2, 3], using: &b) }
        #expect(first == second)
    }

    @Test func topKNeverDrawsOutsideTheK() {
        var g = SeededGenerator(seed: 3)
        let draws = (0..<2000).map { _ in sampleToken(logits: [5, 4.9, 0, 4.8, 1], temperature: 2, topK: 2, using: &g) }
        #expect(Set(draws) == [0, 1])
    }

    @Test func frequenciesFollowTheSoftmax() {
        var g = SeededGenerator(seed: 5)
        let n = 20000
        let draws = (0..<n).map { _ in sampleToken(logits: [0, Float(log(3.0))], using: &g) }
        let share = Double(draws.filter { $0 == 1 }.count) / Double(n)
        #expect(Swift.abs(share - 0.75) < 0.02, "token 1 drawn \(share) of the time, softmax says 0.75")
    }
}

@Suite("Text data")
struct TextDataTests {
    @Test func fortuneRecordsSplitOnPercentLines() {
        let records = TextCorpus.fortuneRecords("A stitch in time.\n%\nTwo\nlines.\n%\n\n%\nLast")
        #expect(records == ["A stitch in time.\n", "Two\nlines.\n", "Last\n"])
    }

    @Test func theSplitIsDeterministicAndDisjoint() {
        let corpus = TextCorpus(name: "t", records: (0..<25).map { "r\($0)" })
        #expect(corpus.validation == ["r9", "r19"])
        #expect(corpus.training.count == 23 && Set(corpus.training).isDisjoint(with: corpus.validation))
    }

    @Test func windowsPredictTheNextCharacter() {
        let vocabulary = CharacterVocabulary(["abc"], extra: ["\n"])
        #expect(vocabulary.characters == ["\n", "a", "b", "c"])
        let data = TextDataset(records: ["abc", "cab"], separator: "\n", vocabulary: vocabulary, length: 3)
        #expect(data.ids == [1, 2, 3, 0, 3, 1, 2, 0])
        #expect(data.count == 2)
        let batch = data.batch([1, 0])
        #expect(batch.inputs.shape == [2, 3])
        #expect(batch.inputs.toArray() == [0, 3, 1, 1, 2, 3] && batch.targets.toArray() == [3, 1, 2, 2, 3, 0])
        #expect(data.batch([0]).inputs.toArray() == data.example(at: 0).input.toArray())
        #expect(vocabulary.decode(vocabulary.encode("cab?")) == "cab")
    }

    @Test func aMissingCorpusSaysWhatToInstall() {
        #expect {
            try TextCorpus.fortunes(directory: "/nonexistent/fortunes")
        } throws: { "\($0)".contains("apt-get install fortunes") && "\($0)".contains("/nonexistent/fortunes") }
        #expect {
            try TextCorpus.words(path: "/nonexistent/words")
        } throws: { "\($0)".contains("apt-get install wamerican") }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: TextCorpus.fortunesDirectory)))
    func theFortunesCorpusIsRealEnglish() throws {
        let corpus = try TextCorpus.fortunes()
        let characters = corpus.records.reduce(0) { $0 + $1.count }
        #expect(corpus.records.count > 10_000 && characters > 2_000_000, "\(corpus.records.count) records, \(characters) characters")
        #expect(!corpus.records.contains { $0.contains("\n%\n") })
    }
}
