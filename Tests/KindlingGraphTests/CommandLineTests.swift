// `kindling` as a user runs it: bad input refused before any work, with a
// message naming what is wrong. Runs the executable built beside this test.
import Foundation
import Kindling
import Testing

/// The `kindling` executable of this build, next to the test runner.
private let kindling: String? = {
    guard let runner = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
    let path = URL(fileURLWithPath: runner).deletingLastPathComponent().appendingPathComponent("kindling").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}()

/// Runs kindling with `arguments`, killed after `limit` seconds (a hang is a
/// failure, not a stall); returns its exit status, standard output and error.
private func runKindling(_ arguments: [String], limit: TimeInterval = 120) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(kindling, "no kindling executable beside the test runner"))
    process.arguments = arguments
    let (out, err) = (Pipe(), Pipe())
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(limit)
    // Read both pipes while it runs, so a full pipe never blocks it.
    nonisolated(unsafe) var outData = Data(), errData = Data()
    let readers = DispatchGroup()
    DispatchQueue.global().async(group: readers) { outData = out.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: readers) { errData = err.fileHandleForReading.readDataToEndOfFile() }
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    _ = readers.wait(timeout: .now() + 10)
    #expect(Date() < deadline, "kindling \(arguments.joined(separator: " ")) ran past \(Int(limit)) s")
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

private func temporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "kindling-cli-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The MLP of `kindling train` (784 → 128 → 10), as the CLI builds it.
private func mlp() -> Sequential { Sequential(Flatten(), Linear(784, 128), ReLU(), Linear(128, 10)) }

@Suite("kindling on the command line", .enabled(if: kindling != nil))
struct CommandLineTests {
    @Test func aNamedDataFolderIsTheOnlyOneSearched() throws {
        let empty = try temporaryFolder()
        let run = try runKindling(["train", "--data", empty, "--epochs", "1"])
        #expect(run.status == 1)
        #expect(run.err.contains("not found in \(empty), the directory you named (the only one searched)"), "\(run.err)")
        #expect(!run.out.contains("epoch"), "trained anyway:\n\(run.out)")
    }

    @Test func anUnwritableSaveIsRefusedBeforeTraining() throws {
        let folder = try temporaryFolder()
        let run = try runKindling(["train", "--save", folder + "/no/such/dir/w.safetensors"])
        #expect(run.status == 1)
        #expect(run.err.contains("the folder \(folder)/no/such/dir does not exist"), "\(run.err)")
        #expect(run.out.isEmpty, "started before refusing:\n\(run.out)")
    }

    @Test func evalRefusesATruncatedFileNamingIt() throws {
        let path = try temporaryFolder() + "/w.safetensors"
        try mlp().save(to: path, metadata: ["model": "mlp"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        let run = try runKindling(["eval", "--weights", path])
        #expect(run.status == 1)
        #expect(run.err.contains("\(path): truncated"), "\(run.err)")
    }

    @Test func evalNamesTheTensorAndBothShapes() throws {
        let path = try temporaryFolder() + "/w.safetensors"
        var state = mlp().stateDict()
        state["3.weight"] = Tensor.zeros([10, 64])  // a hidden layer of 64, not 128
        try saveSafetensors(state, to: path, metadata: ["model": "mlp"])
        let run = try runKindling(["eval", "--weights", path])
        #expect(run.status == 1)
        #expect(run.err.contains("not the weights of mlp") && run.err.contains("3.weight: expected shape [10, 128], got [10, 64]"),
                "\(run.err)")

        // Weights of one model, evaluated as another: the file says which it holds.
        try mlp().save(to: path, metadata: ["model": "mlp"])
        let other = try runKindling(["eval", "--weights", path, "--model", "convnet"])
        #expect(other.status == 1)
        #expect(other.err.contains("not the weights of convnet (the file says it holds mlp)"), "\(other.err)")
    }

    @Test(.enabled(if: (try? FashionMNIST.load(.test)) != nil))
    func evalReportsAccuracyAndTheConfusionMatrix() throws {
        let folder = try temporaryFolder()
        manualSeed(3)
        try mlp().save(to: folder + "/w.safetensors", metadata: ["model": "mlp"])
        let run = try runKindling(["eval", "--weights", folder + "/w.safetensors", "--report", folder + "/report"])
        #expect(run.status == 0, "\(run.err)")
        // An untrained network: about one image in ten right, and 10 rows of counts.
        #expect(run.out.contains("test accuracy") && run.out.contains("of 10000 right"), "\(run.out)")
        #expect(run.out.split(separator: "\n").filter { $0.contains("[") && $0.hasSuffix("%") }.count == 10, "\(run.out)")
        #expect(FileManager.default.fileExists(atPath: folder + "/report/evaluation.html"))
    }

    @Test func graphDrawsACharacterModelByLayer() throws {
        let folder = try temporaryFolder()
        let out = folder + "/gpt.svg"
        let run = try runKindling(["graph", "--model", "gpt", "--collapse", "--collapse-depth", "2",
                                   "--batch-size", "2", "--context", "4", "--out", out])
        #expect(run.status == 0, "\(run.err)")
        let svg = try String(contentsOfFile: out, encoding: .utf8)
        // Depth 2: each block's parts are boxes of their own.
        #expect(svg.contains("MultiheadAttention") && svg.contains("blocks.3") && svg.contains("crossEntropy"), "\(run.out)")
    }

    @Test func sampleRefusesAnImageModelsWeights() throws {
        let folder = try temporaryFolder()
        let weights = folder + "/mlp.safetensors"
        try mlp().save(to: weights, metadata: ["model": "mlp"])
        let run = try runKindling(["sample", "--weights", weights])
        #expect(run.status == 1)
        #expect(run.err.contains("not the weights of a character model (the file says it holds mlp)"), "\(run.err)")
    }

}
