import Foundation
import FuzzSupport
import SeesawBatch

/// One line of an OpenAI Batch API input file (`BatchRequest.parse`): JSON, the request envelope, the body's fields
/// and their types. Whatever it accepts must format as an error line too, as `run-batch` does for a later failure.
runFuzzer { data, size in
  fuzzInput(data, size) { bytes in
    let line = Data(bytes)
    let request = try BatchRequest.parse(line: line)
    blackHole(request.customID)
  }
}
