import ArgumentParser
import Foundation
import Kindling

/// `kindling sample`: text from a trained character model.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate text with a character model saved by `kindling train --model charlstm|gpt --save W`.")

    @Option(help: "The weights file (.safetensors) written by --save.")
    var weights: String

    @Option(help: "Text to continue (characters the model never saw are skipped).")
    var prompt = ""

    @Option(help: "Characters to generate.")
    var length = 400

    @Option(help: "Softmax temperature: below 1 safer, above 1 wilder; 0 is greedy.")
    var temperature: Float = 0.8

    @Option(help: "Draw only from the k most likely characters (0: all).")
    var topK = 20

    @Option(help: "Random seed: the same seed gives the same text.")
    var seed: UInt64 = 0

    func validate() throws {
        if length < 1 { throw ValidationError("--length must be at least 1") }
        if temperature < 0 { throw ValidationError("--temperature must be ≥ 0") }
        if topK < 0 { throw ValidationError("--top-k must be ≥ 0") }
    }

    func run() throws {
        let (model, vocabulary, context) = try failingClearly { try loadTextModel(weights: weights) }
        var generator = SeededGenerator(seed: seed)
        let text = generate(model, vocabulary: vocabulary, prompt: prompt, length: length, context: context,
                            temperature: temperature, topK: topK == 0 ? nil : topK, using: &generator)
        print(text)
    }
}

/// The character model saved in `path`, with the vocabulary and context its
/// metadata records. A file without them (an image model's, say) is named
/// with what it holds instead.
func loadTextModel(weights path: String) throws -> (Module, CharacterVocabulary, Int) {
    let tensors = try loadSafetensors(from: path)  // SafetensorsError names the file
    let metadata = try loadSafetensorsMetadata(from: path)
    guard let name = metadata["model"], let kind = TextModelKind(rawValue: name) else {
        throw WeightsError(path: path, reason: "not the weights of a character model (the file says it holds "
                           + (metadata["model"] ?? "no model name") + "); `kindling sample` reads files saved by "
                           + "`kindling train --model charlstm|gpt --save`")
    }
    guard let characters = metadata["vocabulary"], !characters.isEmpty,
          let context = metadata["context"].flatMap(Int.init), context > 0 else {
        throw WeightsError(path: path, reason: "its metadata lacks the vocabulary or the context length")
    }
    let vocabulary = CharacterVocabulary(characters: Array(characters))
    let model = kind.make(vocabulary: vocabulary.count, context: context)
    try loadWeights(model, named: name, from: path, tensors: tensors, savedName: name)
    return (model, vocabulary, context)
}
