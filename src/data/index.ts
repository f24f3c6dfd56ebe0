/** The data layer: dataset contract, split, synthetic catalogue, folder format. */
export * from './dataset.js';
export { leaveOneOutSplit, itemsWithoutTraining, type SplitOptions } from './split.js';
export { negativePool, sampleNegative } from './negatives.js';
export {
  synthesizeCatalogue,
  isSynthDataset,
  tasteAffinity,
  catalogueParams,
  attributeVector,
  SynthImageSource,
  PROFILE_PARAMS,
  CATALOGUE_PROFILES,
  type CatalogueProfile,
  type CatalogueParams,
  type CatalogueOptions,
  type SynthDataset,
  type UserTaste,
} from './synth/catalogue.js';
export { synthesizeScaleCatalogue, scaleParams, AMAZON_MEN_SCALE, type ScaleCatalogue, type ScaleCatalogueOptions } from './synth/scale.js';
export { ItemLists, ItemListsBuilder } from './item-lists.js';
export { renderItem, CATEGORIES, COLOURS, PATTERNS, type ItemAttributes } from './synth/raster.js';
export {
  readDatasetFolder,
  writeDatasetFolder,
  decodeImage,
  FolderImageSource,
  FOLDER_FORMAT,
  type FolderDataset,
  type ReadFolderOptions,
  type WriteFolderOptions,
  type DatasetJson,
} from './folder-format.js';
export { encodePngRgb, contactSheet } from './png.js';
export { datasetStats, formatStats, datasetContactSheet, type DatasetStats } from './inspect.js';
export { assembleDataset, type AssembleOptions, type AssembledDataset, type RawInteraction } from './assemble.js';
export { openDataset, type OpenDatasetOptions } from './open.js';
