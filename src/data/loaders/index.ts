/** Real-dataset loaders (spec section 2): AIP/DVBPR .npy, raw Amazon, Tradesy, VBPR features. */
export { loadAip, type AipOptions, type AipDataset } from './aip.js';
export { loadAmazon, parseRecordLine, type AmazonOptions } from './amazon.js';
export { loadTradesy, type TradesyOptions } from './tradesy.js';
export { readFeatureFile, packFeatures, FEATURE_DIM, FEATURE_ID_BYTES, type FeatureTable } from './features.js';
export { writeFeatureFolder, readFeatureFolder, FEATURE_FOLDER_FORMAT } from './feature-folder.js';
export { requirePixels, NoPixelsImageSource, decodeImageBytes } from './common.js';
export { readPickle, NdArray, LazyBytes, type PickleOptions } from './pickle.js';
export { readNpy, readNpyHeader } from './npy.js';
export { parseLiteral, LiteralSyntaxError, type PyValue } from './pyliteral.js';
export { BufferReader, FileReader, type ByteReader } from './bytes.js';
