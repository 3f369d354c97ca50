"""The sixteen lessons: which text, which Try its, which question.

A Try it names a tab by its title and controls by attribute paths on that tab. The Lessons
tab shows a Try it only when its tab and every control it names exist in the running window,
so a lesson whose lab is not built yet still teaches with text and pictures, without a dead
button.
"""

from __future__ import annotations

from lab.lessons.model import ChoiceQuestion, Lesson, SliderQuestion, TryIt

CLASSIFIER = "Classifier"
CURVES = "Curves"
EMBEDDINGS = "Embeddings"
DIFFUSION = "Diffusion"
LABS = "Labs"

NEEDS_IMAGES = "needs_images"  # point at Starter images… when there is nothing to train on


def _train(label: str, hint: str, mode: str, **values) -> TryIt:
    """A Classifier Try it: pick a mode, set some fields, then point at Train."""
    pairs: list[tuple[str, object]] = [(f"form.mode_buttons.{mode}", True)]
    pairs += [(f"form.{name}", value) for name, value in values.items()]
    return TryIt(label, CLASSIFIER, "train_button", hint, tuple(pairs), NEEDS_IMAGES)


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        id="what-is-ml",
        number=1,
        title="What machine learning is",
        summary="Examples in, a model out: a program whose numbers were learned.",
        text_file="01-what-is-ml.md",
        try_its=(
            _train(
                "Train a model from 300 examples",
                "Press Train. The examples go in; a model (its weights) comes out. "
                "Then Save model… keeps it in one file.",
                "head",
                epochs=3,
            ),
        ),
        question=ChoiceQuestion(
            prompt="You train a cat-or-raccoon model and save it to a file. What is mostly "
            "inside that file?",
            choices=(
                "Copies of the 300 training photos",
                "A list of if-then rules the computer wrote in English",
                "Millions of numbers (weights) used by the model's arithmetic",
                "Nothing useful without the training photos",
            ),
            answer=2,
            explanation="A trained model is a fixed recipe of arithmetic plus the numbers it "
            "learned, called weights. The saved file holds those weights, the class names and "
            "how to prepare a picture; no photos. That is why it works on another computer "
            "without the training data.",
        ),
    ),
    Lesson(
        id="loss",
        number=2,
        title="The loss function",
        summary="One number that says how wrong the model is, and why it must be smooth.",
        text_file="02-loss.md",
        try_its=(
            _train(
                "Watch the loss start and fall",
                "Press Train and look at the very first point of the loss curve, then watch "
                "it fall.",
                "head",
                epochs=3,
            ),
        ),
        question=ChoiceQuestion(
            prompt="Before any learning, a model says “50% cat, 50% raccoon” for every photo. "
            "What is its cross-entropy loss?",
            choices=("0", "about 0.69", "exactly 1", "about 4.6"),
            answer=1,
            explanation="The loss is minus the logarithm of the probability given to the right "
            "answer: −ln(0.5) ≈ 0.69, whichever the right answer is. So a loss near 0.69 at "
            "the start of training means “no idea yet”: it is a coin toss. A good model "
            "gets well below it.",
        ),
    ),
    Lesson(
        id="gradients",
        number=3,
        title="Gradients and the learning rate",
        summary="How each weight learns which way to move, and how far.",
        text_file="03-gradients.md",
        try_its=(
            TryIt(
                label="Set the learning rate to 10 and watch the loss",
                tab=CLASSIFIER,
                highlight="form.learning_rate",
                hint="The learning rate is now 10 (the usual is 0.001). Press Train and watch "
                "the loss curve.",
                values=(
                    ("form.mode_buttons.head", True),
                    ("form.epochs", 5),
                    ("form.learning_rate", "10"),
                ),
                action=NEEDS_IMAGES,
            ),
            TryIt(
                label="Roll downhill on a loss landscape",
                tab=LABS,
                highlight="panels.landscape.lr_slider",
                hint="Drag the learning rate up and press Play: small steps creep, big ones "
                "jump across the valley.",
                values=(("list", "landscape"),),
            ),
            TryIt(
                label="Now try tiny steps: 0.00001",
                tab=CLASSIFIER,
                highlight="form.learning_rate",
                hint="The learning rate is now 0.00001. Press Train: does the loss move?",
                values=(
                    ("form.mode_buttons.head", True),
                    ("form.epochs", 5),
                    ("form.learning_rate", "0.00001"),
                ),
                action=NEEDS_IMAGES,
            ),
        ),
        question=ChoiceQuestion(
            prompt="The usual learning rate here is 0.001. You set it to 10 and train. What "
            "will the training loss do?",
            choices=(
                "Fall faster than usual and give a better model",
                "Jump around wildly or shoot up, instead of falling steadily",
                "Stay exactly where it started",
                "Training refuses to start",
            ),
            answer=1,
            explanation="Each step moves every weight by up to about the learning rate. "
            "Steps of 10 are far too big: the weights jump over the valley of low loss and "
            "land somewhere else, again and again. The loss leaps about, to 30 or more and "
            "back, where 0.69 is a coin toss. Accuracy can still look good, because huge "
            "weights make the model extremely sure of everything: each mistake then costs an "
            "enormous loss. Tiny steps (0.00001) have the opposite problem: the loss stays "
            "near 0.69 for epoch after epoch.",
        ),
    ),
    Lesson(
        id="classifier",
        number=4,
        title="Training a classifier on cats and raccoons",
        summary="Examples, a split, epochs and batches, and curves to watch.",
        text_file="04-classifier.md",
        try_its=(
            _train(
                "Train head-only for 3 epochs on the starter images",
                "Head only, 3 epochs: press Train and watch the accuracy.",
                "head",
                epochs=3,
            ),
        ),
        question=SliderQuestion(
            prompt="Head-only training, 3 epochs, on 150 cats and 150 raccoons. Guess the "
            "validation accuracy: what share of the 60 kept-aside photos will it label "
            "correctly?",
            minimum=50,
            maximum=100,
            answer=97,
            tolerance=5,
            unit="%",
            start=70,
            explanation="Typically 95% to 98% after just 3 epochs (one run here: 98.3%, 59 of "
            "60), in a few seconds once the features are computed. 50% would be guessing. It is this good so fast because "
            "the network already learned to see fur, eyes and stripes from a million other "
            "photos (lesson 6); only its last layer learns here.",
        ),
    ),
    Lesson(
        id="overfitting",
        number=5,
        title="Memorizing vs generalizing",
        summary="Validation data, overfitting, and curves that part.",
        text_file="05-overfitting.md",
        try_its=(
            _train(
                "Train from scratch for 40 epochs, no augmentation",
                "A small network from scratch, 40 epochs, no mirrored or cropped copies. "
                "Press Train and watch the two loss curves.",
                "scratch",
                epochs=40,
                augment=False,
            ),
            TryIt(
                label="Learn true labels or random ones",
                tab=LABS,
                highlight="panels.memorize.train_button",
                hint="Press Train both: both networks get near 100% on their training points. "
                "Only the validation points show which one learned something.",
                values=(("list", "memorize"),),
            ),
            TryIt(
                label="Show validation loss per epoch in Curves",
                tab=CURVES,
                highlight="metric_box",
                hint="Validation loss per epoch, every run overlaid. ★ marks each run's best "
                "epoch; shading marks memorizing.",
                values=(("metric_box", "val_loss"), ("x_axis_box", "epoch")),
            ),
        ),
        question=ChoiceQuestion(
            prompt="A small network learns from scratch on 240 photos for 40 epochs, with no "
            "augmentation. In the later epochs, what does the validation loss do?",
            choices=(
                "Keeps falling, just like the training loss",
                "Stops improving and climbs, while the training loss keeps falling",
                "Drops to exactly zero",
                "Stays flat from the first epoch",
            ),
            answer=1,
            explanation="With few photos and many epochs the network starts to memorize the "
            "training photos (this raccoon's fence, that cat's blanket) instead of what makes "
            "a raccoon a raccoon. Training loss keeps falling; validation loss, on photos it "
            "never learned from, turns and rises. Where they part is where to stop: early "
            "stopping keeps the best epoch.",
        ),
    ),
    Lesson(
        id="transfer",
        number=6,
        title="Foundation models and transfer learning",
        summary="Pretrained features make 300 photos enough.",
        text_file="06-transfer.md",
        try_its=(
            TryIt(
                label="Compare head-only, whole network and from scratch",
                tab=CLASSIFIER,
                highlight="compare_button",
                hint="Press Compare training modes: the three runs use the same photos, split "
                "and seed. The whole-network run is slow on a laptop (minutes).",
                action=NEEDS_IMAGES,
            ),
        ),
        question=ChoiceQuestion(
            prompt="Same 300 photos, same split. Which way of training reaches the best "
            "validation accuracy?",
            choices=(
                "From scratch: it learns only about cats and raccoons",
                "Starting from pretrained weights (head-only or whole network)",
                "All three end up the same",
                "None: 300 photos are too few for any of them",
            ),
            answer=1,
            explanation="The pretrained network already turns a photo into features that "
            "describe fur, faces and stripes, learned from over a million photos. A network "
            "from scratch must learn all of that from 240 photos and ends far behind, even "
            "after many more epochs. Reusing what a big model learned is transfer learning.",
        ),
    ),
    Lesson(
        id="forgetting",
        number=7,
        title="Fine-tuning and forgetting",
        summary="Specializing a model can erase what it knew.",
        text_file="07-forgetting.md",
        try_its=(
            TryIt(
                label="Watch a network forget what it knew",
                tab=LABS,
                highlight="panels.forgetting.run_button",
                hint="Press Train both ways and compare: after training on your classes, does "
                "the network still give its old ImageNet answers?",
                values=(("list", "forgetting"),),
            ),
            TryIt(
                label="Choose whole-network fine-tuning",
                tab=CLASSIFIER,
                highlight="form.mode_buttons.finetune",
                hint="Every layer will learn now, not just the last. Expect minutes on a "
                "laptop instead of seconds.",
                values=(("form.mode_buttons.finetune", True),),
                action=NEEDS_IMAGES,
            ),
        ),
        question=ChoiceQuestion(
            prompt="A network knows 1,000 kinds of things. You fine-tune all of its layers on "
            "cats and raccoons only, for many epochs. How good is it now at the other 998?",
            choices=(
                "Just as good: knowledge never gets lost",
                "Better, because it trained for longer",
                "Worse, often much worse: the same weights were changed for the new task",
                "It refuses to learn the new task",
            ),
            answer=2,
            explanation="The old skills live in the same weights that fine-tuning changes, and "
            "the new loss only rewards cats and raccoons. Nothing holds the old knowledge in "
            "place, so it fades: catastrophic forgetting. Small learning rates, few epochs, "
            "frozen layers or mixing in old examples soften it.",
        ),
    ),
    Lesson(
        id="inference",
        number=8,
        title="Inference: one photo now, or a folder later",
        summary="Real-time vs batch use of a trained model.",
        text_file="08-inference.md",
        try_its=(
            TryIt(
                label="Classify one photo",
                tab=CLASSIFIER,
                highlight="classify.drop_zone",
                hint="Drop a photo here: the answer comes back in a fraction of a second.",
            ),
            TryIt(
                label="Classify a whole folder",
                tab=CLASSIFIER,
                highlight="batch.folder_button",
                hint="Choose a folder: every photo gets a label, then you can save the table.",
            ),
        ),
        question=ChoiceQuestion(
            prompt="Your cat-or-raccoon model is shown a photo of a dog. What does it answer?",
            choices=(
                "“Dog”",
                "“I don't know”, automatically",
                "Cat or raccoon: its probabilities still add up to 100%",
                "It crashes",
            ),
            answer=2,
            explanation="A classifier can only choose among the classes it was trained on. "
            "For a dog it still spreads 100% between cat and raccoon, perhaps 70/30. A low top "
            "probability is a hint that it is unsure, but it is not a reliable “none of these”.",
        ),
    ),
    Lesson(
        id="embeddings",
        number=9,
        title="Embeddings: things as points",
        summary="Images and words as vectors; similar things land close.",
        text_file="09-embeddings.md",
        try_its=(
            TryIt(
                label="Map your images",
                tab=EMBEDDINGS,
                highlight="images.compute_button",
                hint="Press Compute map: every image becomes a point. Do cats and raccoons "
                "form two groups?",
                values=(("views", "Images"),),
            ),
        ),
        question=ChoiceQuestion(
            prompt="Two arrows point in exactly the same direction; one is twice as long as "
            "the other. What is their cosine similarity?",
            choices=("0", "0.5", "1", "2"),
            answer=2,
            explanation="Cosine similarity only looks at the angle between two vectors, not "
            "their length. Same direction: angle 0°, cosine 1. At right angles it is 0, "
            "opposite directions −1. That is why a long and a short description of the same "
            "thing can still match.",
        ),
    ),
    Lesson(
        id="rag",
        number=10,
        title="Semantic search and RAG",
        summary="Find passages by meaning, then answer from them.",
        text_file="10-rag.md",
        try_its=(
            TryIt(
                label="Search these lessons by meaning",
                tab=EMBEDDINGS,
                highlight="search.search_button",
                hint="Press Search: the passages closest in meaning come first, even when they "
                "share no words with the question.",
                values=(
                    ("views", "Search"),
                    ("search.source_box", "ML Lab lessons"),
                    ("search.question", "why does my detector get worse when I train it longer"),
                ),
            ),
        ),
        question=ChoiceQuestion(
            prompt="The question is “why does my raccoon detector get worse when I train it "
            "longer?” Which passage should semantic search rank first?",
            choices=(
                "“Raccoons are nocturnal mammals found across North America.”",
                "“Overfitting: validation loss rises while training loss keeps falling.”",
                "“Longer cables make a detector's signal weaker.”",
                "“Train timetables for the Raccoon Valley line.”",
            ),
            answer=1,
            explanation="The overfitting passage shares almost no words with the question, but "
            "it is the one that answers it. Embeddings place texts by meaning, so it lands "
            "closest. The others share words (raccoon, longer, detector, train) but not the "
            "meaning: that is what keyword search gets wrong.",
        ),
    ),
    Lesson(
        id="kinds-of-learning",
        number=11,
        title="Kinds of learning",
        summary="Supervised, unsupervised, reinforcement, and semi-supervised.",
        text_file="11-kinds-of-learning.md",
        try_its=(
            TryIt(
                label="Find groups without labels",
                tab=LABS,
                highlight="panels.clustering.run_button",
                hint="Press Find groups: k-means sorts your images into groups without seeing "
                "a single label.",
                values=(("list", "clustering"),),
            ),
            TryIt(
                label="See structure without labels: a map of your images",
                tab=EMBEDDINGS,
                highlight="images.compute_button",
                hint="t-SNE places similar images near each other without being told any "
                "label. Press Compute map, then colour the points by class to check.",
                values=(("views", "Images"), ("images.method_box", "tsne")),
            ),
            TryIt(
                label="Supervised: labelled photos in classes",
                tab=CLASSIFIER,
                highlight="data.class_list",
                hint="Each class is a label; every photo in it is a labelled example.",
            ),
        ),
        question=ChoiceQuestion(
            prompt="A garden camera took 10,000 photos. Nobody has time to label them, but "
            "you want them sorted into groups of similar photos. Which kind of learning is "
            "that?",
            choices=("Supervised", "Unsupervised", "Reinforcement"),
            answer=1,
            explanation="No labels, just finding structure in the data: unsupervised learning, "
            "for example clustering the photos' embeddings. The groups have no names until a "
            "person looks at them: one may turn out to be “raccoons at night”.",
        ),
    ),
    Lesson(
        id="neural-networks",
        number=12,
        title="Neural networks: layers and nodes",
        summary="What a node computes, and what a hidden layer is for.",
        text_file="12-neural-networks.md",
        try_its=(
            _train(
                "Train a small network from scratch",
                "Four convolution layers, random weights at the start. Press Train and watch "
                "it learn from nothing.",
                "scratch",
            ),
        ),
        question=ChoiceQuestion(
            prompt="A node has inputs 2 and 3, weights 0.5 and −1, a bias of 0.5, and a ReLU. "
            "What does it output?",
            choices=("−1.5", "0", "1.5", "4.5"),
            answer=1,
            explanation="Weighted sum: 2 × 0.5 + 3 × (−1) + 0.5 = 1 − 3 + 0.5 = −1.5. ReLU "
            "turns any negative number into 0, so the node outputs 0: it stays silent for "
            "this input. Without such a bend, stacking layers would be no more powerful than "
            "a single layer.",
        ),
    ),
    Lesson(
        id="diffusion",
        number=13,
        title="Diffusion: from noise to pictures",
        summary="Forward noising, reverse denoising.",
        text_file="13-diffusion.md",
        try_its=(
            TryIt(
                label="Add noise: drag t from 0 to T",
                tab=DIFFUSION,
                highlight="forward.slider",
                hint="Drag the slider from t = 0 to T: the picture drowns in noise, step by step.",
                values=(("pages", "Adding noise"), ("forward.slider", 0)),
            ),
            TryIt(
                label="Scrub diffusion from t = T to 0",
                tab=DIFFUSION,
                highlight="reverse.generate_button",
                hint="Press Generate: every picture starts as different random noise. Then drag "
                "the scrubber from t = T (noise) to t = 0 (a picture).",
                values=(("pages", "Removing it"),),
            ),
        ),
        question=ChoiceQuestion(
            prompt="You run the reverse process twice, starting from two different random "
            "noise images. What do you get?",
            choices=(
                "The same picture twice",
                "Two different new pictures, both like the training pictures",
                "Two copies of a training picture",
                "Noise again",
            ),
            answer=1,
            explanation="The starting noise decides the result: different noise, different "
            "picture. Each looks like it belongs with the training pictures, yet usually "
            "matches none of them exactly, because the network learned how to remove noise, "
            "not a list of pictures.",
        ),
    ),
    Lesson(
        id="gans-vaes",
        number=14,
        title="GANs and VAEs",
        summary="Two other ways to generate: a forger and a critic; squeeze and rebuild.",
        text_file="14-gans-vaes.md",
        try_its=(
            TryIt(
                label="Train a tiny GAN",
                tab=LABS,
                highlight="panels.gan.train_button",
                hint="Press Train: the forger's fake points drift onto the shape as it learns "
                "to fool the detective.",
                values=(("list", "gan"),),
            ),
            TryIt(
                label="Explore a VAE's code space",
                tab=LABS,
                highlight="panels.vae.map",
                hint="Drag the white cross over the map: every point is a code, and the decoder "
                "turns it into a picture.",
                values=(("list", "vae"),),
            ),
        ),
        question=ChoiceQuestion(
            prompt="A GAN's generator finds one very convincing raccoon and makes only that, "
            "whatever random numbers it gets. What is this called?",
            choices=("Overfitting", "Mode collapse", "Catastrophic forgetting", "Diffusion"),
            answer=1,
            explanation="Mode collapse: the generator found one output that fools the critic "
            "and stops exploring. It is a classic GAN failure. VAEs and diffusion models "
            "rarely suffer from it, because they learn to rebuild every training example, "
            "not just to fool a critic.",
        ),
    ),
    Lesson(
        id="tokens",
        number=15,
        title="Tokens and large language models",
        summary="Text becomes tokens, tokens become vectors, vectors become the next word.",
        text_file="15-tokens.md",
        try_its=(
            TryIt(
                label="See a sentence as tokens",
                tab=LABS,
                highlight="panels.tokens.editor",
                hint="Type any sentence and see how it splits into tokens and token numbers.",
                values=(
                    ("list", "tokens"),
                    ("panels.tokens.editor", "The raccoon opened the bin."),
                ),
            ),
        ),
        question=ChoiceQuestion(
            prompt="About how many tokens is a 750-word English essay for a typical large "
            "language model?",
            choices=("About 75", "About 750", "About 1,000", "About 7,500"),
            answer=2,
            explanation="Common words are one token each, rarer ones split into pieces, and "
            "punctuation counts too. For English, a token is about three quarters "
            "of a word on average, so 750 words is roughly 1,000 tokens. Other languages often "
            "need more tokens per word.",
        ),
    ),
    Lesson(
        id="hardware",
        number=16,
        title="Hardware, time and cost",
        summary="A trip on foot, by car or by jet; and this computer's own speed.",
        text_file="16-hardware.md",
        extra="speed",
        try_its=(
            _train(
                "Train and read the images per second",
                "Press Train: the status line shows how many images per second this computer "
                "manages.",
                "head",
                epochs=3,
            ),
        ),
        question=ChoiceQuestion(
            prompt="Learning from one photo (a training step) compared with only classifying "
            "it (inference): about how much work is it?",
            choices=("The same", "About 3 times as much", "About 100 times", "About 1,000 times"),
            answer=1,
            explanation="Training runs the photo forward through the network, then backward "
            "to get every weight's gradient, which costs about twice the forward pass, then "
            "updates the weights. So about 3 times the work of inference. The measurement "
            "above shows the ratio on this computer; memory and small batches can make it "
            "a bit bigger.",
        ),
    ),
)
