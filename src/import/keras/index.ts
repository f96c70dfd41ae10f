// Keras model files: legacy HDF5 (.h5, Keras 2.x and 3.x) and Keras 3 archives (.keras). The
// configuration conversion (topology.ts) is shared with tfjs Layers model.json (graph/importTfjs.ts).
export { importKerasH5 } from './h5.js';
export { importKerasArchive } from './archive.js';
export { convertKerasTopology, supportedKerasLayers, type KerasTopology } from './topology.js';
export { fillParams, type KerasWeight, type WeightPicker } from './params.js';
