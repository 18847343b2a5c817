// rnn-gradients CLI (placeholder until the engine lands).
console.log('rnn-gradients: not built yet');
