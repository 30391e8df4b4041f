// Fashion-MNIST (Xiao et al. 2017): 60,000 training and 10,000 test 28x28 greyscale images of
// 10 kinds of clothing, in the IDX files of the MNIST layout. slimc ships no copy and downloads
// nothing: it reads the files where Debian's dataset-fashion-mnist package installs them.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { SlimcError } from '../ir/errors.ts';
import type { ImageDataset } from './data.ts';
import { idxFileNames, loadIdxDataset } from './idx.ts';

/** Where `apt install dataset-fashion-mnist` puts the four IDX files. */
export const FASHION_MNIST_DIRS: readonly string[] = ['/usr/share/datasets/fashion-mnist'];

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

async function holdsIdx(dir: string): Promise<boolean> {
  for (const name of idxFileNames('train', 'images')) {
    try {
      await access(join(dir, name));
      return true;
    } catch {
      // try the next spelling
    }
  }
  return false;
}

/** Fashion-MNIST from the first of `dirs` that holds it, pixels in [0,1], [N,28,28,1]. */
export async function loadFashionMnist(dirs: readonly string[] = FASHION_MNIST_DIRS): Promise<ImageDataset> {
  for (const dir of dirs) if (await holdsIdx(dir)) return loadIdxDataset(dir, 'fashion-mnist');
  throw new SlimcError(
    `Fashion-MNIST is not installed (looked in ${dirs.join(', ')}). On Debian or Ubuntu: sudo apt install dataset-fashion-mnist. ` +
      'Elsewhere, download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz ' +
      'from https://github.com/zalandoresearch/fashion-mnist (data/fashion) into a directory and pass --data idx:DIR',
    '--data fashion-mnist',
  );
}
