import ArgumentParser
import Foundation
import Kindling

/// `kindling bench`: the standard workloads, one `name value unit` line each.
/// `bench/bench_torch.py` runs the same workloads in PyTorch, so the two can
/// be compared side by side on one machine.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the standard workloads; prints `name value unit` lines.")

    @Option(help: """
        Run only these workloads (comma-separated: mlp,cnn,tiny,matmul,eltwise; \
        cnnbn: one epoch of `train --model cnn`, batch norm included; \
        lstm, gpt: one training step of `train --model charlstm|gpt`; \
        or lesson5: the four matrix products of lesson 5).
        """)
    var only: String?

    @Option(help: "Matrix size n of the lesson5 workload (n×n by n×n).")
    var lesson5Size = 256

    @Option(help: "Directory holding the Fashion-MNIST files.")
    var data: String?

    func run() throws {
        let selected = Set((only ?? "mlp,cnn,tiny,matmul,eltwise").split(separator: ",").map(String.init))
        if selected.contains("mlp") || selected.contains("cnn") || selected.contains("cnnbn") {
            let (train, test) = try loadFashionMNIST(directory: data)
            if selected.contains("mlp") {
                let (seconds, acc) = epochBenchmark(BuiltinModel.benchmarkMLP, lr: 0.1, train: train, test: test)
                report("mlp_epoch_s", seconds, "s")
                report("mlp_1epoch_test_acc", acc, "fraction")
            }
            if selected.contains("cnn") {
                let (seconds, acc) = epochBenchmark(BuiltinModel.benchmarkCNN, lr: 0.05, train: train, test: test)
                report("cnn_epoch_s", seconds, "s")
                report("cnn_1epoch_test_acc", acc, "fraction")
            }
            if selected.contains("cnnbn") {
                let (seconds, acc) = epochBenchmark(BuiltinModel.cnn.make, lr: 0.05, train: train, test: test)
                report("cnn_bn_epoch_s", seconds, "s")
                report("cnn_bn_1epoch_test_acc", acc, "fraction")
            }
        }
        if selected.contains("tiny") { report("tiny_fwd_bwd_us", tinyForwardBackward(), "us") }
        if selected.contains("matmul") { report("matmul1024_gflops", matmulGflops(), "GFLOP/s") }
        if selected.contains("eltwise") { report("eltwise4M_ms", elementwiseMilliseconds(), "ms") }
        for kind in TextModelKind.allCases where selected.contains(kind.benchName) {
            report("\(kind.benchName)_step_ms", textStepMilliseconds(kind), "ms")
        }
        if selected.contains("lesson5") {
            let n = lesson5Size
            let rates = lessonMatmulGflops(n)
            for (name, rate) in rates { report("\(name)\(n)_gflops", rate, "GFLOP/s") }
            // Lesson 5's milestone: blockedMatmul at 10% or more of BLAS.
            report("blocked_share_of_blas\(n)", rates[2].1 / rates[3].1, "fraction")
        }
    }

    private func report(_ name: String, _ value: Double, _ unit: String) {
        FileHandle.standardOutput.write(Data("\(name) \(String(format: "%.4g", value)) \(unit)\n".utf8))
    }
}

/// Seconds since some fixed point, for timing.
func now() -> Double { Date().timeIntervalSinceReferenceDate }

/// The seconds each of `repeats` runs of `body` took, sorted (fastest first).
func sortedTimes(_ repeats: Int, _ body: () -> Void) -> [Double] {
    (0..<repeats).map { _ in
        let start = now()
        body()
        return now() - start
    }.sorted()
}

/// One epoch of plain SGD (batch 64, shuffled) and the test accuracy after it.
func epochBenchmark(_ makeModel: () -> Sequential, lr: Float, train: TensorDataset, test: TensorDataset) -> (Double, Double) {
    manualSeed(0)
    let model = makeModel()
    let opt = SGD(parameters: model.parameters(), learningRate: lr)
    let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 0)
    let start = now()
    trainEpoch(model: model, loader: loader, optimizer: opt)
    let seconds = now() - start
    return (seconds, accuracy(of: model, on: test))
}

/// µs per `(a*b + a).sum().backward()` on 4×4 tensors.
func tinyForwardBackward() -> Double {
    let a = Tensor.randn([4, 4], requiresGrad: true), b = Tensor.randn([4, 4], requiresGrad: true)
    func once() {
        a.grad = nil
        b.grad = nil
        (a * b + a).sum().backward()
    }
    for _ in 0..<1000 { once() }
    let iterations = 20000
    let start = now()
    for _ in 0..<iterations { once() }
    return (now() - start) / Double(iterations) * 1e6
}

/// GFLOP/s of a 1024×1024 by 1024×1024 product (median of repeats).
func matmulGflops() -> Double {
    let a = Tensor.randn([1024, 1024]), b = Tensor.randn([1024, 1024])
    _ = a.matmul(b)
    let times = sortedTimes(10) { _ = a.matmul(b) }
    let median = times[times.count / 2]
    return 2 * pow(1024, 3) / median / 1e9
}

/// GFLOP/s of lesson 5's three hand-written products and of `matmul`
/// (BLAS) on n×n by n×n, each the best of a few runs. Also checks that they
/// agree: a fast wrong answer is no milestone.
func lessonMatmulGflops(_ n: Int) -> [(String, Double)] {
    let a = Tensor.randn([n, n]), b = Tensor.randn([n, n])
    let products: [(String, (Tensor, Tensor) -> Tensor)] = [
        ("naive", { naiveMatmul($0, $1) }), ("reordered", { reorderedMatmul($0, $1) }),
        ("blocked", { blockedMatmul($0, $1) }), ("blas", { $0.matmul($1) }),
    ]
    let reference = a.matmul(b).toArray()
    return products.map { name, product in
        let result = product(a, b).toArray()  // also the warm-up
        let worst = zip(result, reference).map { Swift.abs($0 - $1) }.max() ?? 0
        if worst > 1e-3 * Float(n).squareRoot() {
            FileHandle.standardError.write(Data("warning: \(name)Matmul differs from BLAS by \(worst) at \(n)×\(n)\n".utf8))
        }
        // The naive loop is slow enough that one more run is plenty.
        let repeats = name == "naive" ? 1 : 3
        let best = sortedTimes(repeats) { _ = product(a, b) }[0]
        return (name, 2 * pow(Double(n), 3) / best / 1e9)
    }
}

/// Milliseconds per `x*y + x` over 4,194,304 elements (median of repeats).
func elementwiseMilliseconds() -> Double {
    let x = Tensor.randn([4_194_304]), y = Tensor.randn([4_194_304])
    _ = x * y + x
    let times = sortedTimes(20) { _ = x * y + x }
    return times[times.count / 2] * 1e3
}

/// Milliseconds per training step of a character model at its default size
/// — its default batch of windows of 64 characters over the fortunes
/// vocabulary (113 characters), AdamW, gradients clipped to norm 1 — on
/// random ids (median of 10 steps after 3 warm-up steps).
func textStepMilliseconds(_ kind: TextModelKind) -> Double {
    let (vocabulary, context, batch) = (113, kind.defaultContext, kind.defaultBatchSize)
    manualSeed(0)
    let model = kind.make(vocabulary: vocabulary, context: context)
    let optimizer = AdamW(parameters: model.parameters(), learningRate: 1e-3, weightDecay: 0.01)
    var generator = SeededGenerator(seed: 0)
    let ids = (0..<batch * (context + 1)).map { _ in Float(generator.next(upperBound: UInt64(vocabulary))) }
    let windows = Tensor(ids, shape: [batch, context + 1])
    let data = Batch(inputs: windows.sliced(axis: 1, from: 0, to: context).contiguous(),
                     targets: windows.sliced(axis: 1, from: 1).contiguous())
    func step() {
        optimizer.zeroGrad()
        nextCharacterLoss(model, data).backward()
        clipGradNorm(model.parameters(), maxNorm: 1)
        optimizer.step()
    }
    for _ in 0..<3 { step() }
    let times = sortedTimes(10) { step() }
    return times[times.count / 2] * 1e3
}
