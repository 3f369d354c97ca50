"""ML Lab's own glossary: short explanations of machine-learning terms.

The default document set for semantic search, written for ML Lab (not taken from any source),
so the search has something real to rank before the user brings their own files.
"""

from __future__ import annotations

GLOSSARY_NAME = "ML Lab glossary"

ENTRIES: tuple[tuple[str, str], ...] = (
    (
        "Embedding",
        "An embedding turns a piece of content, such as an image, a word or a sentence, into a "
        "fixed-length list of numbers. A model learns to place similar things close together, "
        "so a cat photo lands near other cat photos and the word 'kitten' lands near 'cat'.",
    ),
    (
        "Cosine similarity",
        "Cosine similarity compares two vectors by the angle between them, ignoring their "
        "length. It is 1 when they point the same way, 0 when they are unrelated (at right "
        "angles) and -1 when they point in opposite directions. It is the usual way to compare "
        "embeddings.",
    ),
    (
        "Nearest neighbours",
        "The nearest neighbours of an item are the items whose embeddings are most similar to "
        "its own. Looking at them shows what a model considers alike, and a k-nearest-neighbour "
        "classifier labels a new item by the most common label among its k closest examples.",
    ),
    (
        "Semantic search",
        "Semantic search finds text by meaning rather than by matching words. The question and "
        "every document are turned into embeddings, and the documents whose embeddings are most "
        "similar to the question's are returned, even when they use different words.",
    ),
    (
        "Retrieval-augmented generation (RAG)",
        "Retrieval-augmented generation first retrieves the passages most relevant to a "
        "question, usually by semantic search over a collection of documents, and then gives "
        "them to a language model together with the question, so that its answer can draw on "
        "information it was never trained on.",
    ),
    (
        "Vector database",
        "A vector database stores embeddings and answers the question 'which stored vectors are "
        "closest to this one?' quickly, even for millions of items, usually with approximate "
        "nearest-neighbour indexes. It is the storage behind most semantic search and RAG "
        "systems.",
    ),
    (
        "Principal component analysis (PCA)",
        "PCA finds the directions along which data varies the most and projects the data onto "
        "the first few of them. Projecting onto two components gives a flat map that keeps as "
        "much of the spread as a straight projection can. It is fast and exact, and a new point "
        "can be placed with the same formula.",
    ),
    (
        "t-SNE",
        "t-SNE (t-distributed stochastic neighbour embedding) makes a 2D map in which points "
        "that were neighbours in the original space stay neighbours. It improves the map step "
        "by step. It is good at showing clusters, but distances between clusters and cluster "
        "sizes on the map do not mean much.",
    ),
    (
        "Perplexity (t-SNE)",
        "Perplexity is t-SNE's main setting: roughly how many neighbours each point pays "
        "attention to. Small values emphasise very local structure and can break clusters into "
        "pieces; larger values show broader structure. Values between 5 and 50 are typical.",
    ),
    (
        "Silhouette score",
        "The silhouette score measures how well items are grouped. For each item it compares "
        "the average distance to its own class with the average distance to the nearest other "
        "class. It ranges from -1 to 1; higher means tighter, better separated classes.",
    ),
    (
        "Feature",
        "A feature is a number that describes something about an example, such as a pixel's "
        "brightness or a house's floor area. The last hidden layer of a neural network produces "
        "learned features, which is why it can serve as an embedding.",
    ),
    (
        "Neural network",
        "A neural network is a function built from layers of simple units. Each layer multiplies "
        "its inputs by learned weights, adds a bias and applies a non-linear activation. Stacking "
        "layers lets the network represent complicated relationships between inputs and outputs.",
    ),
    (
        "Convolutional neural network (CNN)",
        "A convolutional neural network processes images with small filters that slide across "
        "the picture, detecting edges and textures in early layers and larger parts and objects "
        "in later ones. Sharing each filter across the whole image makes CNNs efficient.",
    ),
    (
        "Pretrained model",
        "A pretrained model has already been trained on a large dataset, for example ImageNet's "
        "1.2 million labelled photos. Its layers have learned generally useful features, so it "
        "is a strong starting point for a new task with far fewer examples.",
    ),
    (
        "Transfer learning and fine-tuning",
        "Transfer learning reuses a pretrained model for a new task. Training only a new last "
        "layer on top of frozen features is fast; fine-tuning also adjusts the earlier layers, "
        "which is slower but lets the features themselves adapt, pulling the new classes apart.",
    ),
    (
        "Training, validation and test sets",
        "Examples are split into a training set the model learns from, a validation set used to "
        "choose settings and check progress, and ideally a test set kept aside for a final, "
        "unbiased measurement. Measuring on training examples alone overstates how good a model "
        "is.",
    ),
    (
        "Loss function",
        "The loss function measures how wrong a model's predictions are, as a single number to "
        "make smaller. Classification usually uses cross-entropy loss, which is small when the "
        "model gives high probability to the correct class.",
    ),
    (
        "Gradient descent",
        "Gradient descent trains a model by repeatedly nudging every weight a little in the "
        "direction that reduces the loss. The gradient, computed by backpropagation, says which "
        "way is downhill; the learning rate says how big each step is.",
    ),
    (
        "Learning rate",
        "The learning rate sets the size of each gradient descent step. Too small and training "
        "crawls; too large and the loss jumps around or grows without bound. It is often the "
        "most important setting to get right.",
    ),
    (
        "Epoch and batch",
        "A batch is the group of examples used for one weight update. An epoch is one full pass "
        "over the training set, so an epoch contains as many updates as there are batches.",
    ),
    (
        "Overfitting",
        "A model overfits when it learns the training examples, noise included, instead of the "
        "general pattern: training accuracy keeps improving while validation accuracy stalls or "
        "drops. More data, data augmentation, regularisation and stopping early all help.",
    ),
    (
        "Underfitting",
        "A model underfits when it cannot capture the pattern even on its training data, so both "
        "training and validation scores stay poor. A bigger model, better features or longer "
        "training usually help.",
    ),
    (
        "Data augmentation",
        "Data augmentation makes extra training examples by changing existing ones in ways that "
        "keep their label, such as mirroring, cropping or adjusting the brightness of a photo. "
        "It helps the model learn what matters and reduces overfitting.",
    ),
    (
        "Softmax and probabilities",
        "Softmax turns a classifier's raw scores into probabilities that are positive and add "
        "up to one. The class with the highest probability is the prediction; the probability "
        "shows how confident the model is, though confident models can still be wrong.",
    ),
    (
        "Accuracy, precision and recall",
        "Accuracy is the share of all predictions that are correct. For one class, precision is "
        "the share of items predicted as that class that really are, and recall is the share of "
        "that class's items the model found. A confusion matrix shows all the counts.",
    ),
    (
        "Tokenization",
        "Before a language model reads text, a tokenizer splits it into tokens: words, pieces of "
        "words or punctuation, each mapped to a number. Rare words are split into several "
        "common pieces, so the model can handle words it has never seen whole.",
    ),
    (
        "Transformer and attention",
        "A transformer is a neural network built around attention: each token looks at every "
        "other token and takes in information from the most relevant ones. Transformers power "
        "modern language models and sentence-embedding models like the one in this tab.",
    ),
    (
        "Sentence embedding model",
        "A sentence embedding model turns a whole sentence into one vector. It is trained on "
        "pairs of related sentences so that sentences with similar meaning get similar vectors. "
        "ML Lab uses all-MiniLM-L6-v2, which gives 384 numbers per text and runs on a laptop.",
    ),
    (
        "Large language model",
        "A large language model is a transformer trained on a huge amount of text to predict the "
        "next token. By predicting one token after another it can answer questions, summarise "
        "and write, but it can state false things confidently, which retrieval helps reduce.",
    ),
    (
        "Diffusion model",
        "A diffusion model generates images by starting from pure noise and removing a little "
        "noise at a time. It is trained by adding noise to real images and learning to predict "
        "that noise, so running the steps in reverse turns noise into a new picture.",
    ),
)
