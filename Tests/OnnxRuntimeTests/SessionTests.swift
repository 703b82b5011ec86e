import Foundation
import OnnxRuntime
import Testing

@Suite struct SessionTests {
  @Test func loadsTheProjectLocalLibrary() throws {
    let runtime = try Fixtures.runtime
    #expect(runtime.version == "1.31.1")
    #expect(runtime.libraryPath.hasSuffix("vendor/onnxruntime/libonnxruntime.so.1"))
    #expect(runtime.compiledProviders().contains("CPUExecutionProvider"))
  }

  @Test func introspectsTheRealScrfdModel() throws {
    let session = try InferenceSession(runtime: Fixtures.runtime, modelPath: Fixtures.scrfdModel)
    #expect(session.inputs.count == 1)
    #expect(session.inputs[0].elementType == .float32)
    #expect(session.inputs[0].shape.count == 4)
    #expect(session.inputs[0].shape[1] == 3)
    #expect(session.outputs.count == 9)
    #expect(session.provider == .cpu)
    #expect(session.fallbacks.isEmpty)
  }

  @Test func runsScrfdAndReturnsOneTensorPerOutput() throws {
    let session = try InferenceSession(runtime: Fixtures.runtime, modelPath: Fixtures.scrfdModel)
    let input = Tensor(shape: [1, 3, 640, 640], floats: [Float](repeating: 0, count: 3 * 640 * 640))
    let outputs = try session.run([session.inputs[0].name: input])
    #expect(outputs.count == 9)
    // Scores of stride 8: 80 x 80 cells x 2 anchors, one score each.
    #expect(outputs[0].elementCount == 80 * 80 * 2)
    #expect(outputs[3].elementCount == 80 * 80 * 2 * 4)
    #expect(outputs[6].elementCount == 80 * 80 * 2 * 10)
    // A blank image has no face: every score stays far below FaceFusion's 0.5 threshold.
    #expect(outputs[0].floats().max()! < 0.5)
    // Selecting outputs by name returns just those, in the requested order.
    let picked = try session.run([session.inputs[0].name: input], outputNames: [session.outputs[6].name, session.outputs[0].name])
    #expect(picked.map(\.shape) == [outputs[6].shape, outputs[0].shape])
    #expect(picked[1] == outputs[0])
  }

  @Test func rejectsAWrongInputShapeWithAClearMessage() throws {
    let session = try InferenceSession(runtime: Fixtures.runtime, modelPath: Fixtures.scrfdModel)
    let wrong = Tensor(shape: [1, 4, 64, 64], floats: [Float](repeating: 0, count: 4 * 64 * 64))
    #expect {
      _ = try session.run([session.inputs[0].name: wrong])
    } throws: { error in
      (error as? OnnxRuntimeError)?.code == .invalidInput && "\(error)".contains("expects shape")
    }
    #expect(throws: OnnxRuntimeError.self) { _ = try session.run([:]) }
  }

  @Test func reportsOrtsMessageForACorruptModel() throws {
    let path = Fixtures.temporaryFile("corrupt.onnx", contents: Array("this is not a protobuf".utf8))
    #expect {
      _ = try InferenceSession(runtime: Fixtures.runtime, modelPath: path)
    } throws: { error in
      guard let error = error as? OnnxRuntimeError, case .runtime = error.code else { return false }
      return error.message.contains("corrupt.onnx")
    }
    #expect(throws: OnnxRuntimeError.self) {
      _ = try InferenceSession(runtime: Fixtures.runtime, modelPath: "/nonexistent/model.onnx")
    }
  }

  @Test func halfFloatTensorsConvertBothWays() {
    let tensor = Tensor(shape: [2, 2], floats: [0, 1.5, -2, 65504])
    let half = tensor.converted(to: .float16)
    #expect(half.elementType == .float16)
    #expect(half.converted(to: .float32) == tensor)
    #expect(Tensor(shape: [3], int64s: [1, 2, 3]).floats() == [1, 2, 3])
  }
}

/// Tensor types and dynamic dimensions through the real runtime (models from make_test_models.py).
@Suite struct TensorTypeTests {
  @Test func float16ModelsTakeFloatInputWithDynamicDimensions() throws {
    let session = try InferenceSession(runtime: Fixtures.runtime, modelPath: Fixtures.testModel("fp16_double.onnx"))
    #expect(session.inputs[0].elementType == .float16)
    #expect(session.inputs[0].shape == [1, 3, -1, -1])
    let input = Tensor(shape: [1, 3, 2, 5], floats: (0..<30).map { Float($0) * 0.5 })
    let output = try session.run(["image": input])[0]
    #expect(output.elementType == .float16)
    #expect(output.shape == [1, 3, 2, 5])
    #expect(output.floats() == (0..<30).map { Float($0) })
  }

  @Test func int64TensorsRoundTrip() throws {
    let session = try InferenceSession(runtime: Fixtures.runtime, modelPath: Fixtures.testModel("int64_increment.onnx"))
    let output = try session.run(["ids": Tensor(shape: [4], int64s: [-1, 0, 41, 1 << 40])])[0]
    #expect(output == Tensor(shape: [4], int64s: [0, 1, 42, (1 << 40) + 1]))
  }
}
