import Foundation
import FuzzSupport
import SeesawTokenizer

/// A Hugging Face `tokenizer.json` (`Tokenizer(tokenizerJSON:)`): the model, vocabulary, merges, added tokens,
/// normalizer, pre-tokenizer, decoder and post-processor; a tokenizer that loads then encodes and decodes a sample.
runFuzzer { data, size in
  fuzzInput(data, size) { bytes in
    let tokenizer = try Tokenizer(tokenizerJSON: Data(bytes))
    blackHole(tokenizer.decode(tokenizer.encode(fuzzSampleText)).count)
  }
}
